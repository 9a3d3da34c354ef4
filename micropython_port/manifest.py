# Frozen into every build (unix and rp2): MicroPython's own asyncio and our package.
# Nothing comes from micropython-lib (the rp2 boards add the stock set when the tree has it:
# boards/stock_micropython_lib.py).
include("$(MPY_DIR)/extmod/asyncio")
# Paths in a manifest are relative to the manifest file itself.
package("microfastapi", base_path="../python")
