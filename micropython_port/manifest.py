# Frozen into every build (unix and rp2): MicroPython's own asyncio and our package.
# Nothing comes from micropython-lib.
include("$(MPY_DIR)/extmod/asyncio")
# Paths in a manifest are relative to the manifest file itself.
package("microfastapi", base_path="../python")
