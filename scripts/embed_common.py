"""What the build-time embedders (embed-sql.py, embed-web.py) share:
failing with a message, and writing the generated C files atomically."""
import os
import sys


def fail(tool, msg):
    sys.stderr.write(f"{tool}: error: {msg}\n")
    sys.exit(1)


def write_outputs(outputs):
    """outputs: (path, lines) pairs.  Each file appears whole or not at all,
    so an interrupted build never leaves a truncated generated source."""
    for path, lines in outputs:
        tmp = path + ".tmp"
        with open(tmp, "w", encoding="ascii") as f:
            f.write("\n".join(lines))
        os.replace(tmp, path)
