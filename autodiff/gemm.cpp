#include "autodiff/gemm.h"
#include "autodiff/parallel.h"
#include "autodiff/relu.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <type_traits>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif
#if defined(__AVX512F__)
#include <immintrin.h>

#include "autodiff/transpose16.h"
#endif

namespace integrad::ad {

namespace {

// The packed GEMM of BLIS and OpenBLAS, in one page. C is computed in micro-tiles of mr × nr held
// in vector registers for a whole pass over k; to feed them at full speed, a kc-deep slice of
// op(B) is copied ("packed") once into nr-wide column panels and each mc-row block of op(A) into
// mr-tall row panels, both in the order the micro-kernel reads them, so every load is contiguous
// and the transpose flags cost nothing after packing. The blocks are sized for the caches: a
// micro-panel of B (kc × nr) is reused for every row panel of a block of A (mc × kc) that stays in
// L2; kc = 384 and blocks of A up to 22·mr rows (405 KB of L2's 1 MB) were the fastest on the
// benchmark machine (docs/performance.md).
//
// Vector registers are GCC vector types: one source gives AVX-512, AVX2 or SSE code.
#if defined(__AVX512F__)
constexpr int kVectorBytes = 64;
#elif defined(__AVX__)
constexpr int kVectorBytes = 32;
#else
constexpr int kVectorBytes = 16;
#endif

// Micro-tiles are mr rows tall: kTallRows, two vectors wide (2·mr accumulators + 3 registers
// fit), or kShortRows where m is a multiple of it that the tall tile would pad: a convolution with
// 16 or 32 output channels computed 24 or 36 rows of 12 for its 16 or 32. The short tiles are
// three vectors wide, 3·mr accumulators, so that each broadcast of A feeds three FMAs: 8 × 32 tiles
// ran a ResNet's convolutions at two thirds of the FMA units' rate.
constexpr int kTallRows = kVectorBytes == 64 ? 12 : 6, kShortRows = kVectorBytes == 64 ? 8 : 4;

template <Scalar T, int MR = kTallRows>
struct Blocking {
  using Vector [[gnu::vector_size(kVectorBytes)]] = T;
  static constexpr int lanes = kVectorBytes / int(sizeof(T));
  static constexpr int width = MR == kShortRows ? 3 : 2;  // vectors across a micro-tile
  static constexpr int nr = width * lanes;
  static constexpr int mr = MR;
  static constexpr int64_t kc = 384, max_mc = 22 * kTallRows, nc = 128 * nr;
  static constexpr int64_t task_columns = 4 * nr;  // the columns of C one task covers
};

// Aligned scratch that grows and is kept, so steady-state calls allocate nothing. Each thread has
// its own (OpenMP threads persist between parallel regions).
template <Scalar T>
T* scratch(std::vector<typename Blocking<T>::Vector>& buffer, int64_t count) {
  const size_t vectors = size_t((count + Blocking<T>::lanes - 1) / Blocking<T>::lanes);
  if (buffer.size() < vectors) buffer.resize(vectors);
  return reinterpret_cast<T*>(buffer.data());
}


// op(A)[i0 : i0+rows, p0 : p0+depth] as mr-tall panels, each stored depth-major; the rows past
// `rows` are zeros, so the micro-kernel never needs a ragged edge. Each loop reads its source
// contiguously.
template <Scalar T, int MR>
void pack_a(bool trans, const T* a, int64_t lda, int64_t i0, int64_t rows, int64_t p0, int64_t depth, T* out) {
  constexpr int mr = MR;
  for (int64_t r = 0; r < rows; r += mr, out += mr * depth) {
    const int height = int(std::min<int64_t>(mr, rows - r));
    if (trans) {
      for (int64_t p = 0; p < depth; ++p) {
        const T* src = a + (p0 + p) * lda + i0 + r;
        for (int ii = 0; ii < mr; ++ii) out[p * mr + ii] = ii < height ? src[ii] : T(0);
      }
    } else {
      int64_t done = 0;  // columns of the panel packed in blocks of 16
#if defined(__AVX512F__)
      if constexpr (std::is_same_v<T, float> && mr <= 16)
        for (; done + 16 <= depth; done += 16) {
          const float* src = a + (i0 + r) * lda + p0 + done;
          transpose16([src, lda](int i) { return src + i * lda; }, height, out + done * mr, mr, mr);
        }
#endif
      if (done == depth) continue;
      for (int ii = 0; ii < mr; ++ii) {
        if (ii >= height) {
          for (int64_t p = done; p < depth; ++p) out[p * mr + ii] = T(0);
          continue;
        }
        const T* src = a + (i0 + r + ii) * lda + p0;
        for (int64_t p = done; p < depth; ++p) out[p * mr + ii] = src[p];
      }
    }
  }
}

// op(B) as gemm and gemm_rows give it: stored row-major with row stride ld (transposed or not), or
// (gemm_rows) row p of B anywhere, at rows[p].
template <Scalar T>
struct MatrixB {
  const T* data = nullptr;
  int64_t ld = 0;
  bool trans = false;
  const T* const* rows = nullptr;
  // Row p of op(B), when B is not transposed.
  const T* row(int64_t p) const { return rows ? rows[p] : data + p * ld; }
  // Column j of op(B) from row p0 on, when B is transposed.
  const T* column(int64_t j, int64_t p0) const { return data + j * ld + p0; }
  // op(B) from row p0 on (split-k's chunks).
  MatrixB from(int64_t p0) const {
    if (rows) return MatrixB{nullptr, 0, false, rows + p0};
    return MatrixB{trans ? data + p0 : data + p0 * ld, ld, trans, nullptr};
  }
};

// op(B)[p0 : p0+depth, j0 : j0+cols] as one nr-wide panel stored depth-major, zero-padded.
template <Scalar T, int nr>
void pack_b_panel(const MatrixB<T>& matrix, int64_t p0, int64_t depth, int64_t j0, int64_t cols, T* out) {
  if (matrix.trans) {
    // A transpose, done 16 rows of the panel at a time so the rows being written stay in L1.
    constexpr int64_t step = 16;
    for (int64_t p_begin = 0; p_begin < depth; p_begin += step) {
      const int64_t p_end = std::min(depth, p_begin + step);
      int jj = 0;
#if defined(__AVX512F__)
      if constexpr (std::is_same_v<T, float>)
        if (p_end - p_begin == step)
          for (; jj + 16 <= cols; jj += 16)
            transpose16([&](int i) { return matrix.column(j0 + jj + i, p0 + p_begin); }, 16, out + p_begin * nr + jj, nr, 16);
#endif
      for (; jj < cols; ++jj) {
        const T* src = matrix.column(j0 + jj, p0);
        for (int64_t p = p_begin; p < p_end; ++p) out[p * nr + jj] = src[p];
      }
      for (int64_t p = p_begin; p < p_end; ++p) std::fill(out + p * nr + cols, out + (p + 1) * nr, T(0));
    }
  } else if (cols == nr) {
    for (int64_t p = 0; p < depth; ++p) std::copy_n(matrix.row(p0 + p) + j0, nr, out + p * nr);
  } else {
    // A ragged last panel (a convolution's 28·30 columns leave 8): its values, then the zeros.
    for (int64_t p = 0; p < depth; ++p) {
      const T* src = matrix.row(p0 + p) + j0;
      T* dst = out + p * nr;
      for (int jj = 0; jj < cols; ++jj) dst[jj] = src[jj];
      for (int64_t jj = cols; jj < nr; ++jj) dst[jj] = T(0);
    }
  }
}

// x in every lane. Written x − 0, which the compiler folds away (x − 0 = x for every x, while
// x + 0 is not x for x = −0 and would be kept as a real addition).
template <Scalar T>
typename Blocking<T>::Vector broadcast(T x) {
  return x - typename Blocking<T>::Vector{};
}

// A micro-tile's sums as the stores read them: mr rows of `width` vectors.
template <Scalar T, int MR>
struct Tile {
  typename Blocking<T, MR>::Vector acc[MR][Blocking<T, MR>::width];
};

// The packed A panel times the B panel, `depth` deep, into a micro-tile, which `store` then writes;
// row p of the B panel is the nr values at panel_row(p) (a packed panel, B itself, or a row of
// gemm_rows's B).
template <Scalar T, int MR, class PanelRow, class Store>
[[gnu::always_inline]] inline void micro_kernel(int64_t depth, const T* a, PanelRow panel_row, Store&& store) {
  using B = Blocking<T, MR>;
  using V = typename B::Vector;
  // The sums in registers; copied to the tile the stores read (which indexes its vectors by
  // piece) only at the end: a zero-initialised tile was cleared in memory, with `rep stos`, before
  // every pass over k, an eighth of a first layer's time (k = 9).
  V acc[B::mr][B::width] = {};
#pragma GCC unroll 4
  for (int64_t p = 0; p < depth; ++p, a += B::mr) {
    const T* b = panel_row(p);
    V bv[B::width];
    for (int v = 0; v < B::width; ++v) std::memcpy(&bv[v], b + v * B::lanes, sizeof(V));
#pragma GCC unroll 16
    for (int i = 0; i < B::mr; ++i) {
      const V ai = broadcast(a[i]);
#pragma GCC unroll 3
      for (int v = 0; v < B::width; ++v) acc[i][v] += ai * bv[v];
    }
  }
  Tile<T, MR> tile;
#pragma GCC unroll 16
  for (int i = 0; i < B::mr; ++i)
#pragma GCC unroll 3
    for (int v = 0; v < B::width; ++v) tile.acc[i][v] = acc[i][v];
  store(tile);
}

// C[0:rows, 0:cols] = alpha·tile + beta·C; beta == 0 does not read C.
template <Scalar T, int MR>
[[gnu::always_inline]] inline void store_tile(const Tile<T, MR>& tile, T* c, int64_t ldc, int rows, int cols, T alpha, T beta) {
  using B = Blocking<T, MR>;
  using V = typename B::Vector;
  // For short k (a convolution's backward has k = its output channels) these stores cost as much
  // as the products, so full-width rows are written as whole vectors.
  if (cols == B::nr) {
    for (int i = 0; i < rows; ++i)
      for (int v = 0; v < B::width; ++v) {
        T* out = c + i * ldc + v * B::lanes;
        V value = broadcast(alpha) * tile.acc[i][v];
        if (beta != T(0)) {
          V old;
          std::memcpy(&old, out, sizeof(V));
          value += broadcast(beta) * old;
        }
        std::memcpy(out, &value, sizeof(V));
      }
    return;
  }
  const T* values = reinterpret_cast<const T*>(tile.acc);  // row i, column j at values[i·nr + j]
  for (int i = 0; i < rows; ++i) {
    T* ci = c + i * ldc;
    for (int j = 0; j < cols; ++j) {
      const T v = alpha * values[i * B::nr + j];
      ci[j] = beta == T(0) ? v : v + beta * ci[j];
    }
  }
}

// The lanes of a vector set in `mask`, from or to p[0 .. lanes): AVX-512's masked loads and stores,
// which touch no memory in the other lanes, or their loop elsewhere.
template <Scalar T>
typename Blocking<T>::Vector load_lanes(const T* p, unsigned mask) {
  typename Blocking<T>::Vector v{};
#if defined(__AVX512F__)
  if constexpr (sizeof(T) == 4) v = typename Blocking<T>::Vector(_mm512_maskz_loadu_ps(__mmask16(mask), p));
  else v = typename Blocking<T>::Vector(_mm512_maskz_loadu_pd(__mmask8(mask), p));
#else
  for (int l = 0; l < Blocking<T>::lanes; ++l)
    if (mask >> l & 1u) v[l] = p[l];
#endif
  return v;
}
template <Scalar T>
void store_lanes(T* p, unsigned mask, typename Blocking<T>::Vector v) {
#if defined(__AVX512F__)
  if constexpr (sizeof(T) == 4) _mm512_mask_storeu_ps(p, __mmask16(mask), __m512(v));
  else _mm512_mask_storeu_pd(p, __mmask8(mask), __m512d(v));
#else
  for (int l = 0; l < Blocking<T>::lanes; ++l)
    if (mask >> l & 1u) p[l] = v[l];
#endif
}

// The epilogue's bias and ReLU on one value of row i, and on a vector of them: the same operations
// in the same order, so the same bits.
template <Scalar T>
T finish(T v, const Epilogue<T>& e, int64_t i) {
  v = v + (e.bias ? e.bias[i] : T(0));
  return e.relu ? relu_value(v) : v;
}
template <Scalar T>
typename Blocking<T>::Vector finish(typename Blocking<T>::Vector v, const Epilogue<T>& e, int64_t i) {
  using V = typename Blocking<T>::Vector;
  v = v + broadcast(e.bias ? e.bias[i] : T(0));
  return e.relu ? (v <= V{} ? V{} : v) : v;
}

// Where the epilogue puts the columns [col0, col0 + cols) of a micro-tile: per vector of the tile,
// the lanes that land in one run of kept columns, and where lane 0 of that vector would land (so
// that lane l goes to row + offset + l). A tile 48 columns wide over rows of 30 (28 kept) is four
// or five pieces; a run of kept columns is at most as many pieces as the tile has vectors.
template <Scalar T>
struct Pieces {
  struct Piece {
    int vector;
    unsigned mask;
    int64_t offset;
  };
  Piece piece[2 * Blocking<T, kShortRows>::nr + 2];  // the widest tile's worst case
  int count = 0;

  // Not a constructor: an optional<Pieces> was cleared in memory (1.5 KB) for every tile.
  void find(const Epilogue<T>& e, int64_t col0, int cols) {
    count = 0;
    constexpr int lanes = Blocking<T>::lanes;
    // Column t is `within` of group `group`: one division a tile, then steps (a division per run
    // was a tenth of a first layer's convolution, whose k = 9 leaves little work per tile).
    int64_t group = col0 / e.period, within = col0 % e.period;
    for (int64_t t = col0; t < col0 + cols;) {
      if (within >= e.keep) {
        t += e.period - within;
        ++group, within = 0;
        continue;
      }
      const int64_t end = std::min(col0 + cols, t + e.keep - within), dest = group * e.keep + within;
      const int first = int(t - col0), last = int(end - col0);  // lanes [first, last) of the tile's row
      for (int v = first / lanes; v * lanes < last; ++v) {
        const int lo = std::max(first, v * lanes) - v * lanes, hi = std::min(last, (v + 1) * lanes) - v * lanes;
        const unsigned mask = (hi == 32 ? ~0u : (1u << hi) - 1u) & ~((1u << lo) - 1u);
        piece[count++] = Piece{v, mask, dest - first + v * lanes};
      }
      within += end - t;
      t = end;
    }
  }
};

// Rows [row0, row0 + rows) of the tile through the epilogue into C (row i at c + i·ldc): `add`
// adds what an earlier block of k stored there (alpha is 1), and `last` (the last block of k)
// applies the bias and ReLU.
template <Scalar T, int MR>
[[gnu::always_inline]] inline void store_through(const Tile<T, MR>& tile, const Pieces<T>& pieces, T* c, int64_t ldc, int64_t row0, int rows,
                                                 bool add, bool last, const Epilogue<T>& e) {
  for (int i = 0; i < rows; ++i) {
    T* row = c + (row0 + i) * ldc;
    for (int k = 0; k < pieces.count; ++k) {
      const auto& piece = pieces.piece[k];
      T* at = row + piece.offset;
      typename Blocking<T>::Vector v = tile.acc[i][piece.vector];
      if (add) v += load_lanes(at, piece.mask);
      if (last) v = finish(v, e, row0 + i);
      store_lanes(at, piece.mask, v);
    }
  }
}

// Element (i, j) of C through the epilogue: the split-k path's and k = 0's store.
template <Scalar T>
void store_element(T* c, int64_t ldc, int64_t i, int64_t j, T v, const Epilogue<T>& e) {
  if (j % e.period < e.keep) c[i * ldc + j / e.period * e.keep + j % e.period] = finish(v, e, i);
}

bool in_parallel_region() {
#ifdef _OPENMP
  return omp_in_parallel();
#else
  return false;
#endif
}

// The rows of C in blocks of equal height (whole micro-panels), as few as keep a block of A within
// max_mc rows: equal blocks share out evenly over threads (256 rows as 96 + 96 + 64 left one thread
// idle a fifth of the time). Block heights decide only which task computes an element, never the
// order of its sum, so they cannot change the result.
template <Scalar T, int MR>
int64_t row_block_height(int64_t m) {
  using B = Blocking<T, MR>;
  const int64_t panels = (m + B::mr - 1) / B::mr, max_panels = B::max_mc / B::mr;
  const int64_t blocks = (panels + max_panels - 1) / max_panels;
  return (panels + blocks - 1) / blocks * B::mr;
}

// The blocked loops: tasks of mc rows × task_columns columns of C split over threads (when
// `parallel`). Each element of C is owned by one task and summed in a fixed order (kc blocks in
// turn, p within a block), so the result is the same bits whatever the number of threads.
template <Scalar T, int MR>
void gemm_blocked(bool trans_a, int64_t m, int64_t n, int64_t k, T alpha, const T* a, int64_t lda, const MatrixB<T>& b, T beta, T* c, int64_t ldc,
                  [[maybe_unused]] bool parallel, const Epilogue<T>* epilogue = nullptr) {
  using B = Blocking<T, MR>;
  const int64_t mc = row_block_height<T, MR>(m);
  static thread_local std::vector<typename B::Vector> b_buffer;
  for (int64_t jc = 0; jc < n; jc += B::nc) {
    const int64_t cols = std::min(B::nc, n - jc), panels = (cols + B::nr - 1) / B::nr;
    for (int64_t pc = 0; pc < k; pc += B::kc) {
      const int64_t depth = std::min(B::kc, k - pc);
      // When C has a single block of rows, each panel of B is read once: packing it would cost as
      // much as using it, so a row-major B is read in place and only a ragged last panel is packed.
      const bool b_in_place = !b.trans && m <= mc;
      T* packed_b = scratch<T>(b_buffer, panels * B::nr * depth);
      parallel_for(panels, parallel, [&](int64_t q) {
        if (!b_in_place || cols - q * B::nr < B::nr)
          pack_b_panel<T, B::nr>(b, pc, depth, jc + q * B::nr, std::min<int64_t>(B::nr, cols - q * B::nr), packed_b + q * B::nr * depth);
      });

      // Later kc blocks add to what the first one wrote.
      const T beta_here = pc == 0 ? beta : T(1);
      const int64_t row_blocks = (m + mc - 1) / mc, column_blocks = (cols + B::task_columns - 1) / B::task_columns;
      const int64_t tasks = row_blocks * column_blocks;
      FirstException error;  // a_buffer may fail to grow: the exception must not leave the region
      // One task; packed_row_block is the calling thread's: the row block its a_buffer holds.
      const auto run_task = [&](int64_t task, int64_t& packed_row_block) {
        error.run([&] {
          static thread_local std::vector<typename B::Vector> a_buffer;
          const int64_t rb = task / column_blocks, cb = task % column_blocks;
          const int64_t i0 = rb * mc, rows = std::min(mc, m - i0);
          T* packed_a = scratch<T>(a_buffer, (rows + B::mr - 1) / B::mr * B::mr * depth);
          if (rb != packed_row_block) pack_a<T, MR>(trans_a, a, lda, i0, rows, pc, depth, packed_a);
          packed_row_block = rb;
          const int64_t j_end = std::min(cols, (cb + 1) * B::task_columns);
          for (int64_t j = cb * B::task_columns; j < j_end; j += B::nr) {
            T* const c_tile = c + jc + j;
            const int tile_columns = int(std::min<int64_t>(B::nr, j_end - j));
            Pieces<T> pieces;
            if (epilogue) pieces.find(*epilogue, jc + j, tile_columns);
            const auto tile = [&](auto panel_row) {
              for (int64_t i = 0; i < rows; i += B::mr) {
                const int tile_rows = int(std::min<int64_t>(B::mr, rows - i));
                micro_kernel<T, MR>(depth, packed_a + i * depth, panel_row, [&](const Tile<T, MR>& sums) {
                  if (epilogue) store_through(sums, pieces, c, ldc, i0 + i, tile_rows, pc > 0, pc + depth >= k, *epilogue);
                  else store_tile(sums, c_tile + (i0 + i) * ldc, ldc, tile_rows, tile_columns, alpha, beta_here);
                });
              }
            };
            const int64_t column = jc + j;
            if (!b_in_place || j + B::nr > cols) {
              const T* panel = packed_b + j * depth;
              tile([panel](int64_t p) { return panel + p * B::nr; });
            } else if (b.rows) {
              const T* const* rows_here = b.rows + pc;
              tile([rows_here, column](int64_t p) { return rows_here[p] + column; });
            } else {
              const T* panel = b.data + pc * b.ld + column;
              const int64_t ld = b.ld;
              tile([panel, ld](int64_t p) { return panel + p * ld; });
            }
          }
        });
      };
      // parallel_for's reasoning, with a per-thread packed_row_block.
      if (can_share(parallel && tasks > 1)) {
#pragma omp parallel
        {
          int64_t packed_row_block = -1;
#pragma omp for schedule(static)
          for (int64_t task = 0; task < tasks; ++task) run_task(task, packed_row_block);
        }
      } else {
        int64_t packed_row_block = -1;
        for (int64_t task = 0; task < tasks; ++task) run_task(task, packed_row_block);
      }
      error.rethrow();
    }
  }
}

// A small C over a long k (weight gradients: C is a layer's weight, k runs over a whole batch's
// pixels) gives the blocked loops too few tasks to share. Then k is cut into fixed chunks whose
// products are computed side by side and summed in chunk order; the chunks depend on k alone, so
// this too gives the same bits whatever the number of threads.
template <Scalar T, int MR>
void gemm_split_k(bool trans_a, int64_t m, int64_t n, int64_t k, T alpha, const T* a, int64_t lda, const MatrixB<T>& b, T beta, T* c, int64_t ldc,
                  int64_t chunk, bool parallel, const Epilogue<T>* epilogue) {
  const int64_t chunks = (k + chunk - 1) / chunk;
  static thread_local std::vector<T> partial;
  partial.resize(size_t(chunks * m * n));
  T* parts = partial.data();
  FirstException error;  // gemm_blocked allocates its packing buffers
  parallel_for(chunks, parallel && m * n * k >= kParallelWork, [&](int64_t q) {
    error.run([&] {
      const int64_t p0 = q * chunk, depth = std::min(chunk, k - p0);
      const T* aq = trans_a ? a + p0 * lda : a + p0;
      gemm_blocked<T, MR>(trans_a, m, n, depth, T(1), aq, lda, b.from(p0), T(0), parts + q * m * n, n, false);
    });
  });
  error.rethrow();
  parallel_for(m, parallel && m * n * chunks >= kParallelWork, [&](int64_t i) {
    for (int64_t j = 0; j < n; ++j) {
      T sum = 0;
      for (int64_t q = 0; q < chunks; ++q) sum += parts[(q * m + i) * n + j];
      if (epilogue) {
        store_element(c, ldc, i, j, alpha * sum, *epilogue);
        continue;
      }
      T& out = c[i * ldc + j];
      out = beta == T(0) ? alpha * sum : alpha * sum + beta * out;
    }
  });
}

// Split-k or the blocked loops, by shape, with micro-tiles MR rows tall.
template <Scalar T, int MR>
void gemm_shaped(bool trans_a, int64_t m, int64_t n, int64_t k, T alpha, const T* a, int64_t lda, const MatrixB<T>& b, T beta, T* c, int64_t ldc,
                 bool parallel, const Epilogue<T>* epilogue) {
  using B = Blocking<T, MR>;
  const int64_t mc = row_block_height<T, MR>(m), chunk = 4 * B::kc;
  const int64_t tasks = (m + mc - 1) / mc * ((n + B::task_columns - 1) / B::task_columns);
  if (tasks < 4 && k >= 4 * chunk) return gemm_split_k<T, MR>(trans_a, m, n, k, alpha, a, lda, b, beta, c, ldc, chunk, parallel, epilogue);
  gemm_blocked<T, MR>(trans_a, m, n, k, alpha, a, lda, b, beta, c, ldc, parallel && m * n * k >= kParallelWork, epilogue);
}

// Rows a micro-tile MR tall leaves unused below m; and the area of C that micro-tiles cover,
// with the tile height gemm picks for m.
inline int64_t padding(int64_t m, int mr) { return (m + mr - 1) / mr * mr - m; }
template <Scalar T>
int64_t padded_area(int64_t m, int64_t n) {
  const bool short_rows = padding(m, kShortRows) < padding(m, kTallRows);
  const int mr = short_rows ? kShortRows : kTallRows, nr = short_rows ? Blocking<T, kShortRows>::nr : Blocking<T>::nr;
  return (m + mr - 1) / mr * mr * ((n + nr - 1) / nr * nr);
}

// gemm and gemm_rows: the algorithm (and so the order of each sum) depends on the shapes alone;
// whether threads share the work never changes it. Called from inside a parallel loop (a
// convolution's loop over images, a method's loop over examples), the caller's threads are
// already busy: run serially rather than open nested teams of one. The micro-tile height decides
// only which registers hold an element's sum, never its order.
template <Scalar T>
void gemm_any(bool trans_a, int64_t m, int64_t n, int64_t k, T alpha, const T* a, int64_t lda, const MatrixB<T>& b, T beta, T* c, int64_t ldc,
              const Epilogue<T>* epilogue = nullptr) {
  if (m == 0 || n == 0) return;
  if (k == 0) {
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j)
        if (epilogue) store_element(c, ldc, i, j, T(0), *epilogue);
        else c[i * ldc + j] = beta == T(0) ? T(0) : beta * c[i * ldc + j];
    return;
  }
  // A C narrower than a micro-tile (a classifier's 10 outputs against tiles 32 wide: a third of
  // each tile used) is computed transposed, Cᵀ = op(B)ᵀ·op(A)ᵀ, where that pads less, then copied
  // back. Every element is the same sum in the same order either way; with beta = 0 only, so
  // that beta·C is not added in a different place.
  if (!epilogue && !b.rows && beta == T(0) && n < Blocking<T>::nr && padded_area<T>(n, m) < padded_area<T>(m, n)) {
    static thread_local std::vector<T> transposed;
    transposed.resize(size_t(n * m));
    gemm_any(!b.trans, n, m, k, alpha, b.data, b.ld, MatrixB<T>{a, lda, !trans_a, nullptr}, T(0), transposed.data(), m);
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) c[i * ldc + j] = transposed[size_t(j * m + i)];
    return;
  }
  const bool parallel = !in_parallel_region();
  if (padding(m, kShortRows) < padding(m, kTallRows))
    return gemm_shaped<T, kShortRows>(trans_a, m, n, k, alpha, a, lda, b, beta, c, ldc, parallel, epilogue);
  gemm_shaped<T, kTallRows>(trans_a, m, n, k, alpha, a, lda, b, beta, c, ldc, parallel, epilogue);
}

}  // namespace

template <Scalar T>
void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, T alpha, const T* a, int64_t lda,
          const T* b, int64_t ldb, T beta, T* c, int64_t ldc) {
  gemm_any(trans_a, m, n, k, alpha, a, lda, MatrixB<T>{b, ldb, trans_b, nullptr}, beta, c, ldc);
}

template <Scalar T>
void gemm_rows(int64_t m, int64_t n, int64_t k, T alpha, const T* a, int64_t lda, const T* const* b_rows, T beta, T* c, int64_t ldc) {
  gemm_any(false, m, n, k, alpha, a, lda, MatrixB<T>{nullptr, 0, false, b_rows}, beta, c, ldc);
}

template <Scalar T>
void gemm_rows(int64_t m, int64_t n, int64_t k, const T* a, int64_t lda, const T* const* b_rows, T* c, int64_t ldc, const Epilogue<T>& epilogue) {
  if (epilogue.period < 1 || epilogue.keep < 1 || epilogue.keep > epilogue.period)
    throw std::invalid_argument("gemm_rows: an epilogue keeps 1 to period columns of each period");
  gemm_any(false, m, n, k, T(1), a, lda, MatrixB<T>{nullptr, 0, false, b_rows}, T(0), c, ldc, &epilogue);
}

template <Scalar T>
void transpose(int64_t rows, int64_t cols, const T* src, int64_t lds, T* dst, int64_t ldd) {
  int64_t j = 0;
#if defined(__AVX512F__)
  if constexpr (std::is_same_v<T, float>)
    for (; j + 16 <= cols; j += 16)
      for (int64_t i = 0; i < rows; i += 16) {
        const int height = int(std::min<int64_t>(16, rows - i));
        const float* block = src + i * lds + j;
        transpose16([block, lds](int r) { return block + r * lds; }, height, dst + j * ldd + i, ldd, height);
      }
#endif
  for (; j < cols; ++j)
    for (int64_t i = 0; i < rows; ++i) dst[j * ldd + i] = src[i * lds + j];
}

template void gemm<float>(bool, bool, int64_t, int64_t, int64_t, float, const float*, int64_t, const float*, int64_t,
                          float, float*, int64_t);
template void gemm<double>(bool, bool, int64_t, int64_t, int64_t, double, const double*, int64_t, const double*,
                           int64_t, double, double*, int64_t);
template void transpose<float>(int64_t, int64_t, const float*, int64_t, float*, int64_t);
template void transpose<double>(int64_t, int64_t, const double*, int64_t, double*, int64_t);
template void gemm_rows<float>(int64_t, int64_t, int64_t, float, const float*, int64_t, const float* const*, float, float*, int64_t);
template void gemm_rows<double>(int64_t, int64_t, int64_t, double, const double*, int64_t, const double* const*, double, double*, int64_t);
template void gemm_rows<float>(int64_t, int64_t, int64_t, const float*, int64_t, const float* const*, float*, int64_t, const Epilogue<float>&);
template void gemm_rows<double>(int64_t, int64_t, int64_t, const double*, int64_t, const double* const*, double*, int64_t, const Epilogue<double>&);

}  // namespace integrad::ad
