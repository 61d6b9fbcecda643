"""A 1024-bit Bloom row as one LLVM ``<16 x i64>`` value (`_Row`) and its few intrinsics.

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
