"""Stored payloads: compact JSON compressed with zstd.

A dictionary id is stored per row (0 = plain zstd) so a shared dictionary can be introduced later
without rewriting old rows.
"""

import json
import threading

import orjson
import zstandard

from bugsink_issues.conf import app_settings
from bugsink_issues.digest import compression_dict

CURRENT_DICT_ID = compression_dict.DICT_ID

_local = threading.local()  # zstd (de)compressor objects are not thread-safe
_DICTIONARIES: dict[int, zstandard.ZstdCompressionDict] = {}


def _dictionary(dict_id):
    if dict_id not in _DICTIONARIES:
        if dict_id != compression_dict.DICT_ID:
            raise ValueError(f"unknown compression dictionary {dict_id}")
        _DICTIONARIES[dict_id] = zstandard.ZstdCompressionDict(
            compression_dict.dictionary_bytes(), dict_type=zstandard.DICT_TYPE_RAWCONTENT
        )
    return _DICTIONARIES[dict_id]


def _compressor():
    level = app_settings.COMPRESSION_LEVEL
    compressor = getattr(_local, "compressor", None)
    if compressor is None or _local.level != level:
        compressor = _local.compressor = zstandard.ZstdCompressor(
            level=level, dict_data=_dictionary(CURRENT_DICT_ID)
        )
        _local.level = level
    return compressor


def _decompressor(dict_id):
    cache = getattr(_local, "decompressors", None)
    if cache is None:
        cache = _local.decompressors = {}
    if dict_id not in cache:
        cache[dict_id] = (
            zstandard.ZstdDecompressor(dict_data=_dictionary(dict_id))
            if dict_id
            else zstandard.ZstdDecompressor()
        )
    return cache[dict_id]


def dump_json(data) -> bytes:
    # orjson is several times faster than json on event-sized documents; json takes what orjson
    # refuses (integers beyond 64 bits, lone surrogates).
    try:
        return orjson.dumps(data, default=str)
    except (orjson.JSONEncodeError, TypeError):
        return json.dumps(
            data, separators=(",", ":"), ensure_ascii=False, default=str, allow_nan=True
        ).encode("utf-8", "surrogatepass")


def compress(raw: bytes) -> tuple[bytes, int]:
    """(compressed bytes, dictionary id to store with them)."""
    return _compressor().compress(raw), CURRENT_DICT_ID


def decompress(blob, dict_id=0) -> bytes:
    return _decompressor(dict_id).decompress(bytes(blob))


def load_payload(event) -> dict:
    """The stored payload of an Event (or UserFeedback) as a dict."""
    raw = decompress(event.payload, getattr(event, "payload_dict_id", 0))
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        data = None
    try:
        data = json.loads(raw) if data is None else data
    except ValueError:
        return {"_unparseable": raw.decode("utf-8", "replace")}
    return data if isinstance(data, dict) else {"_value": data}
