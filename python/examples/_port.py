"""Port and host for the examples: $PORT (./build.sh serve sets it), else 80 on a board."""
try:
    import os
    PORT = int(os.getenv("PORT") or 8000)
except (ImportError, AttributeError):  # bare-metal ports have no os.getenv
    PORT = 80
HOST = "0.0.0.0"
