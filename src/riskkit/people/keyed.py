"""Keyed digests of a million values at once: AES-CMAC (NIST SP 800-38B, RFC 4493).

A person id must not be computable from a name without the secret, so it is a keyed hash. One
hash call per person from Python cost a microsecond each (a second per million people, a sixth
of all resolution). CMAC chains AES over a value's 16-byte blocks, and the same block of every
value is encrypted in one call (AES in ECB mode over all of them, by OpenSSL through
``cryptography``), so a million values take a few dozen calls. A test checks every digest
against ``cryptography``'s own CMAC, one value at a time.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pyarrow as pa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

CHUNK = 100_000  # values digested at a time: their text and padded blocks are held in memory together
_WORD = np.dtype("<u8")  # blocks are handled as little-endian 64-bit words, two per block
_HALVES = np.array([0, 8])  # each word's first byte within a block
# Indexed by the bytes of the value in a word plus 8 (so -8 to 16 becomes 0 to 24): which of
# the word's bytes to keep, and the 0x80 that follows the value's last byte when it falls there.
_KEEP = np.array([(1 << (8 * min(max(k - 8, 0), 8))) - 1 for k in range(25)], dtype=np.uint64)
_PAD = np.array([0x80 << (8 * (k - 8)) if 8 <= k < 16 else 0 for k in range(25)], dtype=np.uint64)


def _double(block: bytes) -> bytes:
    """The CMAC subkey step: shift left one bit in GF(2^128), folding the carry back in."""
    value = int.from_bytes(block, "big") << 1
    if value >> 128:
        value = (value & ((1 << 128) - 1)) ^ 0x87
    return value.to_bytes(16, "big")


def keyed_digests(values: pa.Array | pa.ChunkedArray, secret: bytes) -> np.ndarray:
    """The first 8 bytes of AES-256-CMAC of each value's bytes (UTF-8 for text; a missing value
    counts as empty), as unsigned integers whose order is the order of their hex text. The AES
    key is the SHA-256 of ``secret``."""
    return cmac_prefixes(values, hashlib.sha256(secret).digest())


def cmac_prefixes(values: pa.Array | pa.ChunkedArray, aes_key: bytes) -> np.ndarray:
    """The first 8 bytes of AES-CMAC under ``aes_key`` (16, 24 or 32 bytes) of each value, read
    big-endian: ``keyed_digests`` with the key given as is (RFC 4493's examples use AES-128)."""
    # ECB here is the bare AES block function applied to many independent blocks (one per value),
    # never a way of encrypting data: CMAC's chaining of each value's blocks is done below.
    encrypt = Cipher(algorithms.AES(aes_key), modes.ECB()).encryptor().update  # noqa: S305
    k1 = _double(encrypt(bytes(16)))
    k2 = _double(k1)
    subkeys = np.stack([np.frombuffer(k2, _WORD), np.frombuffer(k1, _WORD)]).astype(np.uint64)  # [partial, whole]
    values = values.cast(pa.large_binary())  # before joining chunks: 64-bit offsets cannot overflow
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks() if values.num_chunks else pa.array([], pa.large_binary())
    values = values.fill_null(b"")
    out = np.empty(len(values), np.uint64)
    for start in range(0, len(values), CHUNK):
        part = values.slice(start, CHUNK)
        out[start:start + len(part)] = _chunk(part, encrypt, subkeys)
    return out


def _chunk(values: pa.Array, encrypt, subkeys: np.ndarray) -> np.ndarray:
    """CMAC of one chunk: values grouped by their number of blocks, each group's blocks held as
    rows of words, chained through AES one block position at a time."""
    n = len(values)
    offsets = np.frombuffer(values.buffers()[1], np.int64, n + 1, values.offset * 8)
    data = values.buffers()[2]
    data = np.frombuffer(data, np.uint8) if data is not None else np.empty(0, np.uint8)
    begin, length = offsets[:-1] - offsets[0], np.diff(offsets)
    blocks = np.maximum(1, (length + 15) // 16)
    width = int(blocks.max(initial=1)) * 16
    # The chunk's bytes with room to read a whole padded value past the last one.
    padded = np.concatenate([data[offsets[0]:offsets[-1]], np.zeros(width, np.uint8)])
    out = np.empty(n, np.uint64)
    counts = np.flatnonzero(np.bincount(blocks)).tolist()
    for count in counts:
        rows = np.arange(n) if len(counts) == 1 else np.flatnonzero(blocks == count)
        words = np.lib.stride_tricks.sliding_window_view(padded, count * 16)[begin[rows]].view(_WORD)
        # Only the last block holds bytes past the value's end (read from the next value):
        # they are cleared, the 0x80 pad set, and the subkey added, by lookup on where the
        # value ends in each of the block's two words.
        in_last = length[rows] - 16 * (count - 1)  # 1 to 16 bytes (0 for an empty value)
        end = in_last[:, None] - _HALVES + 8  # 0 to 24
        words[:, -2:] = (words[:, -2:] & _KEEP[end]) | _PAD[end]
        words[:, -2:] ^= subkeys[(in_last == 16).astype(np.intp)]
        state = np.zeros((len(rows), 2), _WORD)
        for block in range(count):
            state = np.frombuffer(encrypt((state ^ words[:, 2 * block:2 * block + 2]).astype(_WORD).view(np.uint8)),
                                  _WORD).reshape(-1, 2)
        out[rows] = np.ascontiguousarray(state.view(np.uint8)[:, :8]).view(">u8").reshape(-1)  # the tag's first 8 bytes
    return out
