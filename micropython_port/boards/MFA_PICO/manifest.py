# The rp2 port's own frozen modules (_boot.py mounts the filesystem), then ours, then the stock
# board's micropython-lib modules when the tree has micropython-lib.
freeze("$(PORT_DIR)/modules")
include("../../manifest.py")
include("../stock_micropython_lib.py")
