# shim/ is the `microdot` package Microdot's suite imports (its test_client.py is not a test
# file of ours); upy/ holds the unittest stand-in for MicroPython.
collect_ignore = ["shim", "upy", "md_driver.py", "check_microdot_examples.py",
                  "templates_support.py", "pinned_sdist.py"]
