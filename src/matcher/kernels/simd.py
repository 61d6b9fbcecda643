"""A 1024-bit Bloom row as one LLVM ``<16 x i64>`` value (`_Row`), eight Dice lanes as one
``<8 x i64>`` value (`_Lanes`), and their few intrinsics.

Rows of the default 1024 bits are handled as one vector value (load, store, or, xor, rotate as
``@intrinsic`` operations), so a record's filter is ORed and diffused in SIMD registers (AVX-512
or AVX2, whatever the host has) instead of word by word in memory: plain Numba loops over the 16
words stayed scalar. Under ``NUMBA_DISABLE_JIT`` the same names are small NumPy functions.
"""

from __future__ import annotations

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic, models, register_model

#: Words in a row of the default 1024-bit encoding. Such a row is one SIMD value (`_Row`): the
#: kernels OR the gram masks into it and rotate it for the diffusion without leaving registers.
#: Rows of other lengths go word by word (`_bloom_row`, `_diffuse_row`).
_WIDE = 16


class _Row(types.Type):  # type: ignore[misc]
    """A 1024-bit filter row as one value: LLVM ``<16 x i64>`` (2 AVX-512 or 4 AVX2 registers)."""

    def __init__(self) -> None:
        super().__init__(name="matcher.bloom_row_1024")


_ROW = _Row()
_ROW_IR = ir.VectorType(ir.IntType(64), _WIDE)

#: Pairs compared at once by the Dice kernel: one AVX-512 register of 64-bit AND counts.
LANES = 8


class _Lanes(types.Type):  # type: ignore[misc]
    """Eight 64-bit AND counts as one value: LLVM ``<8 x i64>`` (one AVX-512 register).

    LLVM's own loop vectoriser stops at 256 bits on these processors; an explicit 512-bit value
    makes it emit ``vpopcntq`` on a whole ``zmm`` register (two AVX2 registers elsewhere).
    """

    def __init__(self) -> None:
        super().__init__(name="matcher.dice_lanes_8")


_LANES = _Lanes()
_LANES_IR = ir.VectorType(ir.IntType(64), LANES)


@register_model(_Lanes)
class _LanesModel(models.PrimitiveModel):  # type: ignore[misc]
    """Numba's data model of `_Lanes`: the LLVM vector value itself."""

    def __init__(self, dmm, fe_type) -> None:  # type: ignore[no-untyped-def]
        super().__init__(dmm, fe_type, _LANES_IR)


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

    def _lanes_zero() -> np.ndarray:
        """Eight zero counts."""
        return np.zeros(LANES, np.int64)

    def _lanes_and_count(
        acc: np.ndarray, arr: np.ndarray, index: tuple[int, int], word: int
    ) -> np.ndarray:
        """``acc + popcount(arr[index] & word)`` lane by lane (``arr[index]``: eight words)."""
        return acc + np.bitwise_count(arr[index] & np.uint64(word)).astype(np.int64)

    def _lanes_hits(acc: np.ndarray, counts: np.ndarray, index: int, cx: int, low: float) -> int:
        """Bit mask of the lanes with ``2 * acc >= low * (cx + counts[index][lane])``."""
        hit = 2.0 * acc.astype(np.float64) >= low * (cx + counts[index].astype(np.float64))
        return int(sum(1 << t for t in range(LANES) if hit[t]))

    def _lanes_get(acc: np.ndarray, lane: int) -> int:
        """The count in one lane."""
        return int(acc[lane])

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
            ptr = _row_pointer(context, builder, arrty, args[0], args[1], indexty)  # type: ignore[no-untyped-call]
            return builder.load(ptr, align=8)

        return _ROW(arr, index), codegen

    @intrinsic
    def _row_store(typingctx, arr, index, row):  # type: ignore[no-untyped-def]
        """``arr[index] = row`` for a C-contiguous ``uint64`` array with last axis `_WIDE`."""
        if not _row_array(arr, index) or row != _ROW:
            return None

        def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
            arrty, indexty, _ = signature.args
            ptr = _row_pointer(context, builder, arrty, args[0], args[1], indexty)  # type: ignore[no-untyped-call]
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

    def _lanes_array(arr, index, dtype) -> bool:  # type: ignore[no-untyped-def]
        """Whether ``arr[index]`` is a C-contiguous run of `LANES` values of ``dtype``."""
        ndim = len(index) if isinstance(index, types.BaseTuple) else 1
        return (
            isinstance(arr, types.Array)
            and arr.dtype == dtype
            and arr.layout == "C"
            and arr.ndim == ndim + 1
        )

    def _lanes_pointer(context, builder, arrty, arr, index, indexty):  # type: ignore[no-untyped-def]
        """LLVM pointer to the eight values ``arr[index]``."""
        ptr = _row_pointer(context, builder, arrty, arr, index, indexty)  # type: ignore[no-untyped-call]
        return builder.bitcast(ptr, _LANES_IR.as_pointer())

    @intrinsic
    def _lanes_zero(typingctx):  # type: ignore[no-untyped-def]
        """Eight zero counts."""

        def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
            return ir.Constant(_LANES_IR, None)

        return _LANES(), codegen

    @intrinsic
    def _lanes_and_count(typingctx, acc, arr, index, word):  # type: ignore[no-untyped-def]
        """``acc + popcount(arr[index] & word)`` on eight lanes at once (one ``vpopcntq``)."""
        if acc != _LANES or not _lanes_array(arr, index, types.uint64):
            return None

        def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
            _, arrty, indexty, wordty = signature.args
            ptr = _lanes_pointer(context, builder, arrty, args[1], args[2], indexty)  # type: ignore[no-untyped-call]
            row = builder.load(ptr, align=8)
            w = context.cast(builder, args[3], wordty, types.uint64)
            splat = builder.insert_element(ir.Constant(_LANES_IR, None), w, ir.IntType(32)(0))
            splat = builder.shuffle_vector(
                splat, splat, ir.Constant(ir.VectorType(ir.IntType(32), LANES), None)
            )
            ctpop = cgutils.get_or_insert_function(
                builder.module, ir.FunctionType(_LANES_IR, [_LANES_IR]), "llvm.ctpop.v8i64"
            )
            counted = builder.call(ctpop, [builder.and_(row, splat)])
            return builder.add(args[0], counted)

        if not isinstance(word, types.Integer):
            return None
        return _LANES(_LANES, arr, index, word), codegen

    @intrinsic
    def _lanes_hits(typingctx, acc, counts, index, cx, low):  # type: ignore[no-untyped-def]
        """Bit mask of the lanes with ``2 * acc >= low * (cx + counts[index][lane])`` (one
        vector compare: the kernel's cheap float test, eight pairs at once)."""
        if acc != _LANES or not _lanes_array(counts, index, types.int64):
            return None

        def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
            _, arrty, indexty, cxty, lowty = signature.args
            f64x8 = ir.VectorType(ir.DoubleType(), LANES)
            ptr = _lanes_pointer(context, builder, arrty, args[1], args[2], indexty)  # type: ignore[no-untyped-call]
            cy = builder.sitofp(builder.load(ptr, align=8), f64x8)
            cxf = builder.sitofp(context.cast(builder, args[3], cxty, types.int64), ir.DoubleType())
            lowf = context.cast(builder, args[4], lowty, types.float64)
            zero = ir.IntType(32)(0)
            spread = ir.Constant(ir.VectorType(ir.IntType(32), LANES), None)
            cxv = builder.insert_element(ir.Constant(f64x8, None), cxf, zero)
            cxv = builder.shuffle_vector(cxv, cxv, spread)
            lowv = builder.insert_element(ir.Constant(f64x8, None), lowf, zero)
            lowv = builder.shuffle_vector(lowv, lowv, spread)
            two = builder.sitofp(builder.add(args[0], args[0]), f64x8)
            need = builder.fmul(lowv, builder.fadd(cxv, cy))
            hit = builder.fcmp_ordered(">=", two, need)
            mask = builder.bitcast(hit, ir.IntType(LANES))
            return builder.zext(mask, ir.IntType(64))

        if not isinstance(cx, types.Integer) or not isinstance(low, types.Float):
            return None
        return types.int64(_LANES, counts, index, cx, low), codegen

    @intrinsic
    def _lanes_get(typingctx, acc, lane):  # type: ignore[no-untyped-def]
        """The count in one lane."""
        if acc != _LANES or not isinstance(lane, types.Integer):
            return None

        def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
            t = context.cast(builder, args[1], signature.args[1], types.int64)
            return builder.extract_element(args[0], t)

        return types.int64(_LANES, lane), codegen
