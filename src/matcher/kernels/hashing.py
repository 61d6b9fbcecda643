"""Numba kernels of the steward-side hashing: SipHash-2-4, match keys, Bloom bits, diffusion.

Pure functions over NumPy arrays and scalars: no objects, exceptions, logging or I/O. The callers
in ``tokens`` and ``encodings`` validate and shape the inputs. Every kernel has a plain-Python twin
with the same name and contract in ``_hash_reference``; ``tests/test_hash_kernels.py`` compares
them with hypothesis. Kernels over records come in two drivers around one inlined row body:
sequential (small inputs, no thread start-up) and ``*_parallel`` (``prange``, large chunks).

SipHash-2-4 (Aumasson & Bernstein 2012) is a PRF with a 128-bit key and 64-bit output. Here it is
always applied to exactly four little-endian 64-bit words (a 32-byte message), so ``sip4(k0, k1,
a, b, c, d)`` equals standard SipHash-2-4 of ``struct.pack("<4Q", a, b, c, d)`` under the key
``struct.pack("<2Q", k0, k1)``.

Bloom rows of the default 1024 bits are handled as one LLVM ``<16 x i64>`` value (`_Row`, a few
``@intrinsic`` operations: load, store, or, xor, rotate), so a record's filter is ORed and diffused
in SIMD registers (AVX-512 or AVX2, whatever the host has) instead of word by word in memory: plain
Numba loops over the 16 words stayed scalar. Other lengths take the word-by-word path.
"""

from __future__ import annotations

import numba
import numpy as np
from llvmlite import ir
from numba import prange, types
from numba.core import cgutils
from numba.extending import intrinsic, models, register_model

from matcher._numba_config import JIT, JIT_PARALLEL

_C0 = np.uint64(0x736F6D6570736575)
_C1 = np.uint64(0x646F72616E646F6D)
_C2 = np.uint64(0x6C7967656E657261)
_C3 = np.uint64(0x7465646279746573)
_LEN32 = np.uint64(32 << 56)
_FF = np.uint64(0xFF)
_MASK32 = np.uint64(0xFFFFFFFF)
_S32 = np.uint64(32)

#: Token and block kinds: the first SipHash word, so each kind has its own domain.
ID_TAG = 1
NAME_FULL = 1
BLOCK_DATE, BLOCK_YEAR_SURNAME, BLOCK_YEAR_GIVEN, BLOCK_GIVEN_SURNAME = 1, 2, 3, 4
#: At most this many block tokens per record.
MAX_BLOCK_TOKENS = 12
#: The given-name × surname-prefix block uses at most this many of each.
BLOCK_PAIR_NAMES = 2


@numba.njit(inline="always", **JIT)
def _rotl(x: np.uint64, b: int) -> np.uint64:
    return (x << np.uint64(b)) | (x >> np.uint64(64 - b))


if numba.config.DISABLE_JIT:  # pragma: no cover - the kernel bodies run as plain Python

    def _add(a: np.uint64, b: np.uint64) -> np.uint64:
        """``a + b`` modulo 2**64 (NumPy scalars would warn on the wrap that jitted code does)."""
        return np.uint64((int(a) + int(b)) & 0xFFFFFFFFFFFFFFFF)

else:

    @numba.njit(inline="always", **JIT)
    def _add(a: np.uint64, b: np.uint64) -> np.uint64:
        """``a + b`` modulo 2**64."""
        return a + b


@numba.njit(inline="always", **JIT)
def _rounds(v0, v1, v2, v3, n):  # type: ignore[no-untyped-def]
    for _ in range(n):
        v0 = _add(v0, v1)
        v1 = _rotl(v1, 13)
        v1 ^= v0
        v0 = _rotl(v0, 32)
        v2 = _add(v2, v3)
        v3 = _rotl(v3, 16)
        v3 ^= v2
        v0 = _add(v0, v3)
        v3 = _rotl(v3, 21)
        v3 ^= v0
        v2 = _add(v2, v1)
        v1 = _rotl(v1, 17)
        v1 ^= v2
        v2 = _rotl(v2, 32)
    return v0, v1, v2, v3


@numba.njit(inline="always", **JIT)
def sip4(k0: np.uint64, k1: np.uint64, a: np.uint64, b: np.uint64, c: np.uint64, d: np.uint64):  # type: ignore[no-untyped-def]
    """SipHash-2-4 of the four words ``a, b, c, d`` (32 bytes, little-endian) under ``(k0, k1)``."""
    v0 = k0 ^ _C0
    v1 = k1 ^ _C1
    v2 = k0 ^ _C2
    v3 = k1 ^ _C3
    v3 ^= a
    v0, v1, v2, v3 = _rounds(v0, v1, v2, v3, 2)
    v0 ^= a
    v3 ^= b
    v0, v1, v2, v3 = _rounds(v0, v1, v2, v3, 2)
    v0 ^= b
    v3 ^= c
    v0, v1, v2, v3 = _rounds(v0, v1, v2, v3, 2)
    v0 ^= c
    v3 ^= d
    v0, v1, v2, v3 = _rounds(v0, v1, v2, v3, 2)
    v0 ^= d
    v3 ^= _LEN32
    v0, v1, v2, v3 = _rounds(v0, v1, v2, v3, 2)
    v0 ^= _LEN32
    v2 ^= _FF
    v0, v1, v2, v3 = _rounds(v0, v1, v2, v3, 4)
    return v0 ^ v1 ^ v2 ^ v3


@numba.njit(**JIT)
def sip4_many(k0: np.uint64, k1: np.uint64, words: np.ndarray) -> np.ndarray:
    """``sip4`` of each row of a ``uint64[n, 4]`` array."""
    n = words.shape[0]
    out = np.empty(n, np.uint64)
    for i in range(n):
        out[i] = sip4(k0, k1, words[i, 0], words[i, 1], words[i, 2], words[i, 3])
    return out


@numba.njit(**JIT)
def sip_bytes(k0: np.uint64, k1: np.uint64, data: np.ndarray, start: int, end: int) -> np.uint64:
    """Standard SipHash-2-4 of the bytes ``data[start:end]`` under ``(k0, k1)``."""
    v0 = k0 ^ _C0
    v1 = k1 ^ _C1
    v2 = k0 ^ _C2
    v3 = k1 ^ _C3
    length = end - start
    full = start + (length // 8) * 8
    p = start
    while p < full:
        m = np.uint64(0)
        for j in range(8):
            m |= np.uint64(data[p + j]) << np.uint64(8 * j)
        v3 ^= m
        v0, v1, v2, v3 = _rounds(v0, v1, v2, v3, 2)
        v0 ^= m
        p += 8
    last = np.uint64(length & 0xFF) << np.uint64(56)
    for j in range(end - full):
        last |= np.uint64(data[full + j]) << np.uint64(8 * j)
    v3 ^= last
    v0, v1, v2, v3 = _rounds(v0, v1, v2, v3, 2)
    v0 ^= last
    v2 ^= _FF
    v0, v1, v2, v3 = _rounds(v0, v1, v2, v3, 4)
    return v0 ^ v1 ^ v2 ^ v3


@numba.njit(**JIT)
def hash_strings(k0: np.uint64, k1: np.uint64, data: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """``sip_bytes`` of each string ``data[offsets[i]:offsets[i + 1]]``; 0 is replaced by 1."""
    n = offsets.shape[0] - 1
    out = np.empty(n, np.uint64)
    for i in range(n):
        h = sip_bytes(k0, k1, data, offsets[i], offsets[i + 1])
        out[i] = h if h != np.uint64(0) else np.uint64(1)
    return out


@numba.njit(**JIT)
def _decode(data: np.ndarray, start: int, end: int, cps: np.ndarray) -> int:
    """Decode valid UTF-8 ``data[start:end]`` into ``cps[1:]``; return the number of code points."""
    p = start
    n = 0
    while p < end:
        b = np.int64(data[p])
        if b < 0x80:
            cp = b
            p += 1
        elif b < 0xE0:
            cp = ((b & 0x1F) << 6) | (np.int64(data[p + 1]) & 0x3F)
            p += 2
        elif b < 0xF0:
            cp = ((b & 0x0F) << 12) | ((np.int64(data[p + 1]) & 0x3F) << 6)
            cp |= np.int64(data[p + 2]) & 0x3F
            p += 3
        else:
            cp = ((b & 0x07) << 18) | ((np.int64(data[p + 1]) & 0x3F) << 12)
            cp |= ((np.int64(data[p + 2]) & 0x3F) << 6) | (np.int64(data[p + 3]) & 0x3F)
            p += 4
        n += 1
        cps[n] = cp
    return n


@numba.njit(**JIT)
def name_grams(data: np.ndarray, offsets: np.ndarray, q: int, pad: int):  # type: ignore[no-untyped-def]
    """Padded q-grams of each UTF-8 string, packed 3 code points (``cp + 1``, 21 bits) a word.

    Returns ``(gram_off, w0, w1)``: string ``i`` has grams ``gram_off[i]:gram_off[i + 1]``.
    A string of ``m`` code points has ``max(m + 3 - q, 1)`` grams (``pad`` on both ends).
    """
    n = offsets.shape[0] - 1
    gram_off = np.zeros(n + 1, np.int64)
    cps = np.empty(offsets[-1] - offsets[0] + 2 if n else 2, np.int64)
    total = 0
    for i in range(n):
        m = _decode(data, offsets[i], offsets[i + 1], cps)
        total += max(m + 3 - q, 1)
        gram_off[i + 1] = total
    w0 = np.zeros(total, np.uint64)
    w1 = np.zeros(total, np.uint64)
    for i in range(n):
        m = _decode(data, offsets[i], offsets[i + 1], cps)
        cps[0] = pad
        cps[m + 1] = pad
        width = m + 2
        g = gram_off[i]
        for s in range(max(width - q + 1, 1)):
            a = np.uint64(0)
            b = np.uint64(0)
            for j in range(min(q, width - s)):
                v = np.uint64(cps[s + j] + 1) << np.uint64(21 * (j % 3))
                if j < 3:
                    a |= v
                else:
                    b |= v
            w0[g] = a
            w1[g] = b
            g += 1
    return gram_off, w0, w1


@numba.njit(**JIT)
def packed_dates(days: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Dates given as days since 1970-01-01, packed ``year<<16 | month<<8 | day`` (0 where not
    ``valid``): the civil-from-days algorithm of H. Hinnant, proleptic Gregorian calendar."""
    n = days.shape[0]
    out = np.zeros(n, np.uint64)
    for i in range(n):
        if not valid[i]:
            continue
        z = np.int64(days[i]) + 719468
        era = (z if z >= 0 else z - 146096) // 146097
        doe = z - era * 146097
        yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
        doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
        mp = (5 * doy + 2) // 153
        day = doy - (153 * mp + 2) // 5 + 1
        month = mp + 3 if mp < 10 else mp - 9
        year = yoe + era * 400 + (1 if month <= 2 else 0)
        out[i] = np.uint64((year << 16) | (month << 8) | day)
    return out


@numba.njit(**JIT)
def name_token_messages(
    dates: np.ndarray,
    g_off: np.ndarray,
    g_word: np.ndarray,
    p_off: np.ndarray,
    p_word: np.ndarray,
    full_word: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """The messages of each record's name tokens, rows ``(NAME_FULL, date, given, surname)``.

    Record ``i`` (with a date and a surname word) gets one row per given name with its whole
    surname ``full_word[i]``, then, when it has 2+ surname parts, one per given name and part.
    Returns CSR offsets per record and the ``uint64[m, 4]`` rows, record by record.
    """
    n = dates.shape[0]
    off = np.zeros(n + 1, np.int64)
    for i in range(n):
        c = 0
        if dates[i] != 0 and full_word[i] != 0:
            given = g_off[i + 1] - g_off[i]
            parts = p_off[i + 1] - p_off[i]
            c = given * (1 + parts) if parts > 1 else given
        off[i + 1] = off[i] + c
    out = np.empty((off[n], 4), np.uint64)
    tag = np.uint64(NAME_FULL)
    for i in range(n):
        r = off[i]
        if r == off[i + 1]:
            continue
        for g in range(g_off[i], g_off[i + 1]):
            out[r, 0], out[r, 1], out[r, 2], out[r, 3] = tag, dates[i], g_word[g], full_word[i]
            r += 1
        if p_off[i + 1] - p_off[i] > 1:
            for g in range(g_off[i], g_off[i + 1]):
                for p in range(p_off[i], p_off[i + 1]):
                    out[r, 0], out[r, 1], out[r, 2], out[r, 3] = tag, dates[i], g_word[g], p_word[p]
                    r += 1
    return off, out


@numba.njit(inline="always", **JIT)
def _push(out: np.ndarray, i: int, count: int, value: np.uint64) -> int:
    """Append ``value`` to row ``i`` unless present or full; return the new count."""
    for j in range(count):
        if out[i, j] == value:
            return count
    if count < out.shape[1]:
        out[i, count] = value
        return count + 1
    return count


@numba.njit(inline="always", **JIT)
def _block_row(k0, k1, i, d, g0, g1, g_pre, s0, s1, s_pre, out):  # type: ignore[no-untyped-def]
    """Blocking values of record ``i`` into ``out[i]``; returns how many."""
    zero = np.uint64(0)
    y = d & (np.uint64(0xFFFF) << np.uint64(16))
    c = 0
    if d != zero:
        c = _push(out, i, c, sip4(k0, k1, np.uint64(BLOCK_DATE), d, zero, zero))
        for s in range(s0, s1):
            c = _push(out, i, c, sip4(k0, k1, np.uint64(BLOCK_YEAR_SURNAME), y, s_pre[s], zero))
        for g in range(g0, g1):
            c = _push(out, i, c, sip4(k0, k1, np.uint64(BLOCK_YEAR_GIVEN), y, g_pre[g], zero))
    for g in range(g0, min(g1, g0 + BLOCK_PAIR_NAMES)):
        for s in range(s0, min(s1, s0 + BLOCK_PAIR_NAMES)):
            t = sip4(k0, k1, np.uint64(BLOCK_GIVEN_SURNAME), g_pre[g], s_pre[s], zero)
            c = _push(out, i, c, t)
    return c


@numba.njit(**JIT)
def block_tokens(
    k0: np.uint64,
    k1: np.uint64,
    dates: np.ndarray,
    g_off: np.ndarray,
    g_pre: np.ndarray,
    s_off: np.ndarray,
    s_pre: np.ndarray,
    out: np.ndarray,
) -> np.ndarray:
    """Keyed blocking values per record into ``out[n, MAX_BLOCK_TOKENS]``; returns counts.

    Blocks: the birth date; birth year + each surname-part prefix; birth year + each given-name
    prefix; given-name prefix × surname-part prefix (no date, for a typo in the year).
    """
    n = dates.shape[0]
    counts = np.zeros(n, np.int64)
    for i in range(n):
        counts[i] = _block_row(
            k0, k1, i, dates[i], g_off[i], g_off[i + 1], g_pre, s_off[i], s_off[i + 1], s_pre, out
        )
    return counts


@numba.njit(**JIT_PARALLEL)
def block_tokens_parallel(
    k0: np.uint64,
    k1: np.uint64,
    dates: np.ndarray,
    g_off: np.ndarray,
    g_pre: np.ndarray,
    s_off: np.ndarray,
    s_pre: np.ndarray,
    out: np.ndarray,
) -> np.ndarray:
    """`block_tokens` over records in parallel (for large chunks)."""
    n = dates.shape[0]
    counts = np.zeros(n, np.int64)
    for i in prange(n):
        counts[i] = _block_row(
            k0, k1, i, dates[i], g_off[i], g_off[i + 1], g_pre, s_off[i], s_off[i + 1], s_pre, out
        )
    return counts


@numba.njit(**JIT)
def gram_positions(
    k0: np.uint64, k1: np.uint64, salt: np.uint64, w0: np.uint64, w1: np.uint64, k: int, bits: int
) -> np.ndarray:
    """The ``k`` bit positions of one (salt, q-gram): 32-bit halves of ``sip4(salt, w0, w1, j)``."""
    out = np.empty(k, np.int64)
    j = 0
    counter = np.uint64(0)
    while j < k:
        h = sip4(k0, k1, salt, w0, w1, counter)
        out[j] = np.int64(h & _MASK32) % bits
        j += 1
        if j < k:
            out[j] = np.int64(h >> _S32) % bits
            j += 1
        counter += np.uint64(1)
    return out


#: Words in a row of the default 1024-bit encoding. Such a row is one SIMD value (`_Row`): the
#: kernels OR the gram masks into it and rotate it for the diffusion without leaving registers.
#: Rows of other lengths go word by word (`_bloom_row`, `_diffuse_row`).
_WIDE = 16


class _Row(types.Type):
    """A 1024-bit filter row as one value: LLVM ``<16 x i64>`` (2 AVX-512 or 4 AVX2 registers)."""

    def __init__(self) -> None:
        super().__init__(name="matcher.bloom_row_1024")


_ROW = _Row()
_ROW_IR = ir.VectorType(ir.IntType(64), _WIDE)


@register_model(_Row)
class _RowModel(models.PrimitiveModel):  # type: ignore[misc]
    """Numba's data model of `_Row`: the LLVM vector value itself (no memory behind it)."""

    def __init__(self, dmm, fe_type) -> None:  # type: ignore[no-untyped-def]
        super().__init__(dmm, fe_type, _ROW_IR)


if numba.config.DISABLE_JIT:  # pragma: no cover - coverage runs of the kernel bodies

    def _row_zero() -> np.ndarray:
        """An all-zero row."""
        return np.zeros(_WIDE, np.uint64)

    def _row_load(arr: np.ndarray, index: int | tuple[int, ...]) -> np.ndarray:
        """The row ``arr[index]`` (a copy)."""
        return np.array(arr[index], np.uint64)

    def _row_store(arr: np.ndarray, index: int, row: np.ndarray) -> None:
        """``arr[index] = row``."""
        arr[index] = row

    def _row_or(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """``a | b``."""
        return a | b

    def _row_xor(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """``a ^ b``."""
        return a ^ b

    def _row_rotate(row: np.ndarray, s: int) -> np.ndarray:
        """``row`` rotated right by ``s`` bits (output bit ``j``: input bit ``j + s``)."""
        low = np.roll(row, -((int(s) >> 6) & (_WIDE - 1)))
        high = np.roll(low, -1)
        r = np.uint64(int(s) & 63)
        return (low >> r) | ((high << np.uint64(1)) << (np.uint64(63) - r))

else:

    def _row_pointer(context, builder, arrty, arr, index, indexty):  # type: ignore[no-untyped-def]
        """LLVM pointer to the row ``arr[index]`` (``index``: an integer or a tuple of them)."""
        if isinstance(indexty, types.BaseTuple):
            parts = cgutils.unpack_tuple(builder, index, len(indexty))
            kinds = list(indexty)
        else:
            parts, kinds = [index], [indexty]
        idx = [context.cast(builder, v, t, types.intp) for v, t in zip(parts, kinds, strict=True)]
        idx.append(context.get_constant(types.intp, 0))
        array = context.make_array(arrty)(context, builder, arr)
        first = cgutils.get_item_pointer(context, builder, arrty, array, idx, wraparound=False)
        return builder.bitcast(first, _ROW_IR.as_pointer())

    def _row_array(arr, index) -> bool:  # type: ignore[no-untyped-def]
        """Whether ``arr[index]`` is a C-contiguous row of `_WIDE` words, as `_Row` needs."""
        ndim = len(index) if isinstance(index, types.BaseTuple) else 1
        return (
            isinstance(arr, types.Array)
            and arr.dtype == types.uint64
            and arr.layout == "C"
            and arr.ndim == ndim + 1
        )

    @intrinsic
    def _row_zero(typingctx):  # type: ignore[no-untyped-def]
        """An all-zero row."""

        def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
            return ir.Constant(_ROW_IR, None)

        return _ROW(), codegen

    @intrinsic
    def _row_load(typingctx, arr, index):  # type: ignore[no-untyped-def]
        """The row ``arr[index]`` of a C-contiguous ``uint64`` array with last axis `_WIDE`."""
        if not _row_array(arr, index):
            return None

        def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
            arrty, indexty = signature.args
            ptr = _row_pointer(context, builder, arrty, args[0], args[1], indexty)
            return builder.load(ptr, align=8)

        return _ROW(arr, index), codegen

    @intrinsic
    def _row_store(typingctx, arr, index, row):  # type: ignore[no-untyped-def]
        """``arr[index] = row`` for a C-contiguous ``uint64`` array with last axis `_WIDE`."""
        if not _row_array(arr, index) or row != _ROW:
            return None

        def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
            arrty, indexty, _ = signature.args
            ptr = _row_pointer(context, builder, arrty, args[0], args[1], indexty)
            builder.store(args[2], ptr, align=8)
            return context.get_dummy_value()

        return types.none(arr, index, _ROW), codegen

    @intrinsic
    def _row_or(typingctx, a, b):  # type: ignore[no-untyped-def]
        """``a | b``."""

        def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
            return builder.or_(args[0], args[1])

        return _ROW(_ROW, _ROW), codegen

    @intrinsic
    def _row_xor(typingctx, a, b):  # type: ignore[no-untyped-def]
        """``a ^ b``."""

        def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
            return builder.xor(args[0], args[1])

        return _ROW(_ROW, _ROW), codegen

    def _turn(builder, row, words: int):  # type: ignore[no-untyped-def]
        """``row`` rotated down by a constant number of ``words`` (one shuffle)."""
        order = [(w + words) % _WIDE for w in range(_WIDE)]
        return builder.shuffle_vector(
            row, row, ir.Constant(ir.VectorType(ir.IntType(32), _WIDE), order)
        )

    @intrinsic
    def _row_rotate(typingctx, row, s):  # type: ignore[no-untyped-def]
        """``row`` rotated right by ``s`` bits: output bit ``j`` is input bit ``(j + s) mod 1024``.

        Branch-free: the word part in four selected constant shuffles (by 1, 2, 4, 8 words), the
        bit part as one funnel shift of each word with its successor.
        """

        def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
            row, s = args[0], context.cast(builder, args[1], signature.args[1], types.int64)
            i64 = ir.IntType(64)
            words = builder.and_(builder.ashr(s, i64(6)), i64(_WIDE - 1))
            for step in (1, 2, 4, 8):
                take = builder.icmp_unsigned("!=", builder.and_(words, i64(step)), i64(0))
                row = builder.select(take, _turn(builder, row, step), row)
            bits = builder.insert_element(
                ir.Constant(_ROW_IR, None), builder.and_(s, i64(63)), i64(0)
            )
            bits = builder.shuffle_vector(
                bits, bits, ir.Constant(ir.VectorType(ir.IntType(32), _WIDE), None)
            )
            fshr = cgutils.get_or_insert_function(
                builder.module, ir.FunctionType(_ROW_IR, [_ROW_IR] * 3), "llvm.fshr.v16i64"
            )
            return builder.call(fshr, [_turn(builder, row, 1), row, bits])

        if not isinstance(s, types.Integer):
            return None
        return _ROW(_ROW, s), codegen


@numba.njit(inline="always", **JIT)
def _diffuse_row(src: np.ndarray, taps: np.ndarray, dst: np.ndarray) -> None:
    """``dst`` bit ``j`` = XOR over ``s`` in ``taps`` of ``src`` bit ``(j + s) mod length``."""
    words = src.shape[0]
    for w in range(words):
        dst[w] = np.uint64(0)
    for t in range(taps.shape[0]):
        s = taps[t]
        lo_i = (s >> 6) % words
        r = np.uint64(s & 63)
        if r == np.uint64(0):
            for w in range(words):
                dst[w] ^= src[lo_i]
                lo_i = lo_i + 1 if lo_i + 1 < words else 0
        else:
            back = np.uint64(64) - r
            for w in range(words):
                hi_i = lo_i + 1 if lo_i + 1 < words else 0
                dst[w] ^= (src[lo_i] >> r) | (src[hi_i] << back)
                lo_i = hi_i


@numba.njit(**JIT)
def diffuse(bits_in: np.ndarray, offsets: np.ndarray, out: np.ndarray) -> None:
    """Diffusion layer: output bit ``j`` = XOR over ``s`` in ``offsets`` of input bit ``j + s``.

    Indices are taken modulo the encoding length; rows are packed ``uint64`` (LSB first), and
    C-contiguous.
    """
    if bits_in.shape[1] == _WIDE:
        for i in range(bits_in.shape[0]):
            row = _row_load(bits_in, i)
            mixed = _row_zero()
            for t in range(offsets.shape[0]):
                mixed = _row_xor(mixed, _row_rotate(row, offsets[t]))
            _row_store(out, i, mixed)
    else:
        for i in range(bits_in.shape[0]):
            _diffuse_row(bits_in[i], offsets, out[i])


@numba.njit(**JIT)
def gram_masks(
    field_keys: np.ndarray,
    field_k: np.ndarray,
    gram_field: np.ndarray,
    gram_w0: np.ndarray,
    gram_w1: np.ndarray,
    salts: np.ndarray,
    words: int,
) -> np.ndarray:
    """The bits each (salt, gram) sets, as packed masks ``uint64[n_salts, n_grams, words]``.

    Gram ``g`` belongs to field ``gram_field[g]``, whose key is ``field_keys[field] = (k0, k1)``
    and which sets ``field_k[field]`` positions (`gram_positions`) in ``words * 64`` bits.
    """
    n_salts = salts.shape[0]
    n_grams = gram_w0.shape[0]
    out = np.zeros((n_salts, n_grams, words), np.uint64)
    one = np.uint64(1)
    for si in range(n_salts):
        for g in range(n_grams):
            f = gram_field[g]
            pos = gram_positions(
                field_keys[f, 0], field_keys[f, 1], salts[si], gram_w0[g], gram_w1[g],
                field_k[f], words * 64,
            )  # fmt: skip
            for j in range(field_k[f]):
                out[si, g, pos[j] >> 6] |= one << np.uint64(pos[j] & 63)
    return out


@numba.njit(inline="always", **JIT)
def _bloom_row(masks, si, p0, p1, rec_item, item_off, item_gram, taps, row, dst):  # type: ignore[no-untyped-def]
    """One record's filter: OR the masks of its items' grams, then diffuse into ``dst``."""
    words = row.shape[0]
    for w in range(words):
        row[w] = np.uint64(0)
    for p in range(p0, p1):
        t = rec_item[p]
        for q in range(item_off[t], item_off[t + 1]):
            g = item_gram[q]
            for w in range(words):
                row[w] |= masks[si, g, w]
    if taps.shape[0]:
        _diffuse_row(row, taps, dst)
    else:
        for w in range(words):
            dst[w] = row[w]


@numba.njit(**JIT)
def _bloom_rows(masks, rec_salt, rec_off, rec_item, item_off, item_gram, taps, out, lo, hi):  # type: ignore[no-untyped-def]
    """Records ``lo:hi`` of `bloom_bits`; 1024-bit rows as `_Row` values, others word by word.

    Compiled once for both drivers. The record loop is inside (not around an inlined per-record
    call) so that no array is reference-counted per record; indices into the CSR arrays are
    unsigned so that the hot loop has no negative-index wrap-around.
    """
    one = np.uint64(1)
    if out.shape[1] == _WIDE:
        for i in range(lo, hi):
            si = rec_salt[i]
            row = _row_zero()
            for p in range(np.uint64(rec_off[i]), np.uint64(rec_off[i + 1])):
                t = np.uint64(rec_item[p])
                for q in range(np.uint64(item_off[t]), np.uint64(item_off[t + one])):
                    row = _row_or(row, _row_load(masks, (si, item_gram[q])))
            if taps.shape[0]:
                mixed = _row_zero()
                for k in range(taps.shape[0]):
                    mixed = _row_xor(mixed, _row_rotate(row, taps[k]))
                row = mixed
            _row_store(out, i, row)
    else:
        scratch = np.zeros(out.shape[1], np.uint64)
        for i in range(lo, hi):
            _bloom_row(
                masks, rec_salt[i], rec_off[i], rec_off[i + 1], rec_item, item_off, item_gram,
                taps, scratch, out[i],
            )  # fmt: skip


@numba.njit(**JIT)
def bloom_bits(
    masks: np.ndarray,
    rec_salt: np.ndarray,
    rec_off: np.ndarray,
    rec_item: np.ndarray,
    item_off: np.ndarray,
    item_gram: np.ndarray,
    taps: np.ndarray,
    out: np.ndarray,
) -> None:
    """Each record's Bloom filter of salted q-grams, diffused, into ``out[n, bits // 64]``.

    Record ``i`` holds items ``rec_item[rec_off[i]:rec_off[i + 1]]`` (names, dates); item ``t``
    holds grams ``item_gram[item_off[t]:item_off[t + 1]]``; gram ``g`` under the record's salt
    ``rec_salt[i]`` sets the bits of ``masks[salt, g]`` (`gram_masks`). The filter then goes
    through the diffusion layer with rotation ``taps`` (none: stored as is). Rows are packed
    ``uint64``, bit ``j`` in word ``j >> 6`` at ``j & 63``; ``masks`` and ``out`` C-contiguous.
    """
    _bloom_rows(masks, rec_salt, rec_off, rec_item, item_off, item_gram, taps, out, 0, out.shape[0])


#: Records per task of `bloom_bits_parallel`.
BLOOM_TASK_ROWS = 4096


@numba.njit(**JIT_PARALLEL)
def bloom_bits_parallel(
    masks: np.ndarray,
    rec_salt: np.ndarray,
    rec_off: np.ndarray,
    rec_item: np.ndarray,
    item_off: np.ndarray,
    item_gram: np.ndarray,
    taps: np.ndarray,
    out: np.ndarray,
) -> None:
    """`bloom_bits` over runs of records in parallel (for large chunks)."""
    n = out.shape[0]
    tasks = (n + BLOOM_TASK_ROWS - 1) // BLOOM_TASK_ROWS
    for task in prange(tasks):
        lo = task * BLOOM_TASK_ROWS
        _bloom_rows(
            masks, rec_salt, rec_off, rec_item, item_off, item_gram, taps, out,
            lo, min(n, lo + BLOOM_TASK_ROWS),
        )  # fmt: skip


@numba.njit(**JIT)
def compact_rows(matrix: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """The first ``counts[i]`` entries of each row of ``matrix``, concatenated row by row."""
    total = 0
    for i in range(counts.shape[0]):
        total += counts[i]
    out = np.empty(total, matrix.dtype)
    p = 0
    for i in range(counts.shape[0]):
        for j in range(counts[i]):
            out[p] = matrix[i, j]
            p += 1
    return out


@numba.njit(**JIT)
def dedupe_cap(offsets: np.ndarray, idx: np.ndarray, cap: int) -> tuple[np.ndarray, np.ndarray]:
    """Per CSR row: its first ``cap`` distinct indices ``>= 0``, in order; new CSR arrays."""
    n = offsets.shape[0] - 1
    out_off = np.zeros(n + 1, np.int64)
    out_idx = np.empty(min(idx.shape[0], n * cap), np.int64)
    p = 0
    for i in range(n):
        start = p
        for j in range(offsets[i], offsets[i + 1]):
            v = idx[j]
            if v < 0 or p - start >= cap:
                continue
            seen = False
            for q in range(start, p):
                if out_idx[q] == v:
                    seen = True
                    break
            if not seen:
                out_idx[p] = v
                p += 1
        out_off[i + 1] = p
    return out_off, out_idx[:p].copy()
