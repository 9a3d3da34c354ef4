# The rp2 port's own frozen modules (_boot.py mounts the filesystem), then ours.
freeze("$(PORT_DIR)/modules")
include("../../manifest.py")
