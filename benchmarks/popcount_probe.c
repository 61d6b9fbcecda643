/* Peak AND-popcount rate of this machine over 1024-bit rows: the limit bench_dice.py reports
 * the Dice kernel's share of. The kernel's work (every pair i < j of one block, a Dice threshold
 * test per pair) on the same layout (panels of 8 rows, word-major inside a panel), four panels
 * per pass, with the widest popcount the compiler targets: AVX-512 VPOPCNTQ on 8 pairs at once
 * when -march=native has it, else the scalar popcount instruction.
 * Built by bench_dice.py with: cc -O3 -march=native -shared -fPIC. */
#include <stdint.h>
#include <immintrin.h>

/* Pairs i < j of m rows with 2 * inter >= thr * (ci + cj); panels[(p * words + k) * 8 + lane]
 * holds word k of row 8p + lane (zero rows pad to a multiple of 32 rows), cnt[y] the row's set bits. */
long long probe(const uint64_t *panels, const int64_t *cnt, long m, long words, double thr) {
    long long kept = 0;
    long npanels = (m + 31) / 32 * 4;
    for (long x = 0; x + 1 < m; x++) {
        const uint64_t *xp = panels + (x / 8) * words * 8 + x % 8;
#if defined(__AVX512VPOPCNTDQ__)
        __m512d limit_x = _mm512_set1_pd(thr * (double)cnt[x]);
        __m512d thr8 = _mm512_set1_pd(thr);
        for (long p0 = x / 8 - (x / 8) % 4; p0 < npanels; p0 += 4) {
            /* four panels per pass share each broadcast word of x (npanels: a multiple of 4) */
            __m512i acc[4] = {_mm512_setzero_si512(), _mm512_setzero_si512(),
                              _mm512_setzero_si512(), _mm512_setzero_si512()};
            for (long k = 0; k < words; k++) {
                __m512i w = _mm512_set1_epi64((long long)xp[k * 8]);
                for (int u = 0; u < 4; u++) {
                    __m512i r = _mm512_loadu_si512((const void *)(panels + ((p0 + u) * words + k) * 8));
                    acc[u] = _mm512_add_epi64(acc[u], _mm512_popcnt_epi64(_mm512_and_si512(w, r)));
                }
            }
            for (int u = 0; u < 4; u++) {
                long p = p0 + u;
                __m512d two_inter = _mm512_cvtepi64_pd(_mm512_add_epi64(acc[u], acc[u]));
                __m512d cy = _mm512_cvtepi64_pd(_mm512_loadu_si512((const void *)(cnt + p * 8)));
                __mmask8 hit = _mm512_cmp_pd_mask(two_inter, _mm512_fmadd_pd(thr8, cy, limit_x),
                                                  _CMP_GE_OQ);
                long first = x + 1 - p * 8, end = m - p * 8;  /* lanes y > x and y < m only */
                if (first >= 8 || end <= 0) continue;
                if (first > 0) hit &= (__mmask8)(0xFF << first);
                if (end < 8) hit &= (__mmask8)((1 << end) - 1);
                kept += __builtin_popcount(hit);
            }
        }
#else
        for (long y = x + 1; y < m; y++) {
            const uint64_t *yp = panels + (y / 8) * words * 8 + y % 8;
            long long c = 0;
            for (long k = 0; k < words; k++) c += __builtin_popcountll(xp[k * 8] & yp[k * 8]);
            kept += 2.0 * c >= thr * (cnt[x] + cnt[y]);
        }
#endif
    }
    return kept;
}
