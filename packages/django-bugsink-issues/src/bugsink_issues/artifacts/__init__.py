"""Uploaded artifacts: the on-disk blob store of chunks and files (store.py), artifact bundles'
zips and manifests (bundles.py), and assembly of chunks into stored, indexed files (assemble.py).
The web API's upload endpoints call these; the digest reads the files (digest/sourcemaps.py)."""
