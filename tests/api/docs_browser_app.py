"""python/examples/pico_sensor_relay.py with Swagger UI served by itself (from the npm package
swagger-ui-dist, in the directory argv[2]) instead of the CDN: what test_docs_browser.py opens
in headless Chromium (app.docs = "swagger": the offline page is the default). argv[1]: the
port."""
import sys

from microfastapi import openapi
from microfastapi.staticfiles import StaticFiles
import pico_sensor_relay

openapi.SWAGGER_JS = "/swagger/swagger-ui-bundle.js"
openapi.SWAGGER_CSS = "/swagger/swagger-ui.css"
openapi.SWAGGER_FAVICON = "/swagger/favicon-32x32.png"
app = pico_sensor_relay.app
app.docs = "swagger"
app.mount("/swagger", StaticFiles(directory=sys.argv[2]))

if __name__ == "__main__":
    app.run("127.0.0.1", int(sys.argv[1]))
