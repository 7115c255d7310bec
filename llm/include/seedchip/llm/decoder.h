// seedchip — the one decoder definition: builds the IR of a decoder-only
// transformer (or a part of one layer) for every use: functional generation
// with a checkpoint's weights bound as constants, and the timed layer
// programs of run_llm and the step-cost oracle with weights and KV cache as
// graph inputs. What differs between the uses are options of the builder,
// not separate decoders (docs/llm.md "One decoder definition").
#pragma once

#include <cstdint>

#include "seedchip/ir/graph.h"
#include "seedchip/llm/config.h"
#include "seedchip/llm/precision.h"

namespace seedchip::llm {

struct ModelWeights;

/// What of a decoder layer a graph holds.
enum class LayerPart {
  whole,      ///< the layer (for a mixture of experts: every token's top-k experts as one dense MLP)
  dense,      ///< everything but the attention (norms, projections, RoPE, residuals; the MLP, or for a
              ///< mixture of experts the router GEMM): what grows with the token count
  attention,  ///< the attention alone: what grows with the context
  expert,     ///< one expert's gated MLP over batch x tokens rows (mixture of experts)
};

/// How the graph writes its arithmetic.
enum class Arithmetic {
  /// As Hugging Face's eager PyTorch writes it, op by op in the weights'
  /// type (RMSNorm and softmax in fp32, SiLU and GELU decomposed, rotary as
  /// rotate_half, heads transposed): what functional generation runs and is
  /// checked bit for bit against. Batch 1.
  eager,
  /// As an inference stack's kernels run it: norms, SwiGLU, GELU and RoPE
  /// as single row ops, Q/K/V and gate/up as one GEMM each, attention as
  /// FlashAttention when asked, head layouts left to the kernels (no
  /// transposes timed); the KV cache is read from its own inputs. What the
  /// timing model times.
  fused,
};

/// One decoder graph's shape and options.
struct DecoderSpec {
  int64_t batch = 1;    ///< sequences
  int64_t tokens = 1;   ///< new tokens per sequence (decode: 1)
  int64_t context = 1;  ///< positions each sequence attends to, the new ones included (past = context - tokens)
  int64_t layers = 1;   ///< decoder layers in the graph (0 with `head`: the LM head alone)
  LayerPart part = LayerPart::whole;
  Arithmetic arithmetic = Arithmetic::fused;
  /// Fused: attention as one SRAM-tiled FlashAttention node (causal within
  /// the chunk) instead of two GEMMs and a softmax.
  bool flash_attention = false;
  /// Fused, FlashAttention, decode: the KV cache inputs are page pools of
  /// this many tokens with a page table (0: one buffer per sequence).
  int64_t kv_page = 0;
  /// Bound weights (eager): the checkpoint's tensors become constants of the
  /// graph. Null: weights are graph inputs of the precision's types (the
  /// timing model needs their sizes and places, not their values).
  const ModelWeights* weights = nullptr;
  bool embed = false;       ///< eager: token ids in (the embedding gather), else hidden states in
  bool head = false;        ///< the final norm and the LM head out
  bool all_logits = false;  ///< eager: logits of every position, else of the last
};

/// The graph of `spec` for model `c` (one chip's shard of it, for tensor
/// parallelism) at precision `p`.
///
/// Eager graphs take `ids` [tokens] (or `x` [tokens, hidden]), `cos`/`sin`
/// [tokens, 1, head_dim] (rotary families), `mask` [tokens, context] (f32,
/// additive; prefill only) and past_k.L / past_v.L [kv_heads, past,
/// head_dim]; they return the logits (or hidden states) and present_k.L /
/// present_v.L [kv_heads, context, head_dim]. Fused graphs take `x`
/// [batch x tokens, hidden], the weights, a `rope` table and the KV cache
/// (K transposed [batch x kv_heads, head_dim, context], V [.., context,
/// head_dim], or page pools and a `pages` table), and return the layer's
/// output. With quantised activations (fp8, int8) the inputs of the weight
/// GEMMs are cast to the weights' type, so the GEMMs run at that type's rate.
/// Throws std::runtime_error for an inconsistent spec.
ir::Graph decoder_graph(const ModelConfig& c, const DecoderSpec& spec, const PrecisionPolicy& p);

}  // namespace seedchip::llm
