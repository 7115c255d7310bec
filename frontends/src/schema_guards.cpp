// seedchip — ONNX frontend: guarded shape-inference functions.
#include "schema_guards.h"

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include <onnx/defs/shape_inference.h>

namespace seedchip::frontends::detail {

namespace {

/// Longest shape operand accepted (a result of that rank); models use a handful.
constexpr int64_t kMaxRank = 64;

using Guard = std::function<void(onnx::InferenceContext&)>;

/// Rank of input i, if present with a shape.
std::optional<int> rank(onnx::InferenceContext& ctx, size_t i) {
  if (i >= ctx.getNumInputs()) return std::nullopt;
  const auto* t = ctx.getInputType(i);
  if (!t || !t->has_tensor_type() || !t->tensor_type().has_shape()) return std::nullopt;
  return t->tensor_type().shape().dim_size();
}

/// Data input `x` and weight/index input `w` of a convolution-like op: both
/// rank >= 3 and equal.
Guard conv_ranks(size_t x, size_t w) {
  return [x, w](onnx::InferenceContext& ctx) {
    const auto rx = rank(ctx, x), rw = rank(ctx, w);
    for (auto [r, i] : {std::pair{rx, x}, std::pair{rw, w}})
      if (r && *r < 3) fail_shape_inference("input ", i, " must have rank >= 3, not ", *r);
    if (rx && rw && *rx != *rw) fail_shape_inference("inputs ", x, " and ", w, " have ranks ", *rx, " and ", *rw);
  };
}

/// A 1-D shape operand at input i must not ask for an absurd rank.
Guard shape_operand(size_t i) {
  return [i](onnx::InferenceContext& ctx) {
    if (!rank(ctx, i) || *rank(ctx, i) != 1) return;
    const auto& d = ctx.getInputType(i)->tensor_type().shape().dim(0);
    if (d.has_dim_value() && d.dim_value() > kMaxRank)
      fail_shape_inference("shape input ", i, " has ", d.dim_value(), " elements, more than the supported rank ",
                           kMaxRank);
  };
}

/// strides, dilations and kernel_shape of a convolution or pooling op must be
/// positive (onnx 1.12's shape function divides by them).
void positive_window(onnx::InferenceContext& ctx) {
  for (const char* a : {"strides", "dilations", "kernel_shape"})
    if (const auto* at = ctx.getAttribute(a))
      for (int64_t v : at->ints())
        if (v <= 0) fail_shape_inference("attribute ", a, " must be positive, not ", v);
}

Guard with_window(Guard g) {
  return [g](onnx::InferenceContext& ctx) {
    positive_window(ctx);
    if (g) g(ctx);
  };
}

/// The guard for a default-domain op, or null when it needs none.
Guard guard_for(const std::string& op) {
  if (op == "Conv" || op == "ConvTranspose" || op == "ConvInteger" || op == "MaxUnpool") return with_window(conv_ranks(0, 1));
  if (op == "QLinearConv") return with_window(conv_ranks(0, 3));
  if (op == "AveragePool" || op == "MaxPool" || op == "LpPool" || op == "QLinearAveragePool") return with_window(nullptr);
  if (op == "STFT")
    return [](onnx::InferenceContext& ctx) {
      if (const auto r = rank(ctx, 0); r && *r != 3) fail_shape_inference("signal must have rank 3, not ", *r);
    };
  if (op == "LayerNormalization")
    return [](onnx::InferenceContext& ctx) {
      const auto r = rank(ctx, 0);
      const int64_t axis = onnx::getAttribute(ctx, "axis", int64_t{-1});
      if (r && (*r == 0 || axis < -*r || axis >= *r))
        fail_shape_inference("axis ", axis, " is out of range for input rank ", *r);
    };
  if (op == "GatherND")
    return [](onnx::InferenceContext& ctx) {
      const int64_t b = onnx::getAttribute(ctx, "batch_dims", int64_t{0});
      if (b < 0) fail_shape_inference("batch_dims must not be negative, not ", b);
    };
  if (op == "ConstantOfShape") return shape_operand(0);
  if (op == "Expand" || op == "Reshape") return shape_operand(1);
  return nullptr;
}

class GuardedRegistry final : public onnx::ISchemaRegistry {
 public:
  const onnx::OpSchema* GetSchema(const std::string& key, const int maxInclusiveVersion,
                                  const std::string& domain) const override {
    const auto* s = onnx::OpSchemaRegistry::Instance()->GetSchema(key, maxInclusiveVersion, domain);
    if (!s || !(domain.empty() || domain == "ai.onnx")) return s;
    Guard guard = s->has_type_and_shape_inference_function() ? guard_for(key) : nullptr;
    const bool propagates = s->has_data_propagation_function();
    if (!guard && !propagates) return s;
    std::lock_guard lock(mu_);
    auto& copy = guarded_[s];
    if (!copy) {
      // A copy of the schema, so the global registry stays as onnx made it.
      copy = std::make_unique<onnx::OpSchema>(*s);
      if (guard)
        copy->TypeAndShapeInferenceFunction(
            [guard, inner = s->GetTypeAndShapeInferenceFunction()](onnx::InferenceContext& ctx) {
              guard(ctx);
              inner(ctx);
            });
      // Data propagators (Shape, Gather, ...) dereference their input types
      // unchecked; an input is untyped when an earlier node's inference
      // failed, which strict mode reports but lets the pass continue past.
      if (propagates)
        copy->PartialDataPropagationFunction(
            [inner = s->GetDataPropagationFunction()](onnx::DataPropagationContext& ctx) {
              for (size_t i = 0; i < ctx.getNumInputs(); ++i)
                if (!ctx.getInputType(i)) return;
              inner(ctx);
            });
    }
    return copy.get();
  }

 private:
  mutable std::mutex mu_;
  mutable std::unordered_map<const onnx::OpSchema*, std::unique_ptr<onnx::OpSchema>> guarded_;
};

}  // namespace

const onnx::ISchemaRegistry* guarded_schemas() {
  static const GuardedRegistry registry;
  return &registry;
}

}  // namespace seedchip::frontends::detail
