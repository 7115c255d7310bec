// Tests for the host reference evaluator: hand-checked small cases per op.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "seedchip/hostops/hostops.h"

using namespace seedchip;
using hostops::EvalError;
using hostops::Unsupported;
using ir::ElemType;
using ir::HostTensor;
using Shape = std::vector<int64_t>;
using Attrs = std::map<std::string, ir::Attr>;

namespace {

constexpr int64_t kBig = (int64_t{1} << 53) + 1;  // not representable in double
const double kNaN = std::numeric_limits<double>::quiet_NaN();
const double kInf = std::numeric_limits<double>::infinity();

HostTensor F(Shape s, std::vector<double> v, ElemType t = ElemType::f32) {
  HostTensor x(t, std::move(s));
  EXPECT_EQ(static_cast<size_t>(x.elements()), v.size());
  for (size_t i = 0; i < v.size(); ++i) x.set(static_cast<int64_t>(i), v[i]);
  return x;
}

HostTensor I(Shape s, std::vector<int64_t> v, ElemType t = ElemType::i64) {
  HostTensor x(t, std::move(s));
  EXPECT_EQ(static_cast<size_t>(x.elements()), v.size());
  for (size_t i = 0; i < v.size(); ++i) x.set_int(static_cast<int64_t>(i), v[i]);
  return x;
}

HostTensor B(Shape s, std::vector<int64_t> v) { return I(std::move(s), std::move(v), ElemType::boolean); }
HostTensor I1(std::vector<int64_t> v) {
  const auto n = static_cast<int64_t>(v.size());
  return I({n}, std::move(v));
}
HostTensor S(int64_t v) { return I({}, {v}); }

ir::Node N(const std::string& op, int opset, Attrs attrs = {}, int outputs = 1) {
  ir::Node n;
  n.name = "n_" + op;
  n.op = op;
  n.opset = opset;
  n.attrs = std::move(attrs);
  for (int i = 0; i < outputs; ++i) n.outputs.push_back(i);
  return n;
}

// Evaluates with inputs given by value; std::nullopt marks an omitted input.
std::vector<HostTensor> run(const ir::Node& n, std::vector<std::optional<HostTensor>> in) {
  std::vector<const HostTensor*> p;
  for (auto& t : in) p.push_back(t ? &*t : nullptr);
  return hostops::eval(n, p);
}
HostTensor run1(const ir::Node& n, std::vector<std::optional<HostTensor>> in) { return run(n, std::move(in)).at(0); }

std::vector<double> vals(const HostTensor& t) {
  std::vector<double> v;
  for (int64_t i = 0; i < t.elements(); ++i) v.push_back(t.get(i));
  return v;
}
std::vector<int64_t> ivals(const HostTensor& t) {
  std::vector<int64_t> v;
  for (int64_t i = 0; i < t.elements(); ++i) v.push_back(t.get_int(i));
  return v;
}

void expect_near(const HostTensor& t, const std::vector<double>& want, double tol = 1e-6) {
  const auto got = vals(t);
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    if (std::isnan(want[i])) {
      EXPECT_TRUE(std::isnan(got[i])) << "element " << i;
    } else if (std::isinf(want[i])) {
      EXPECT_EQ(got[i], want[i]) << "element " << i;
    } else {
      EXPECT_NEAR(got[i], want[i], tol * std::max(1.0, std::fabs(want[i]))) << "element " << i;
    }
  }
}

// Runs and expects an exception of type E whose message names the node and op.
template <class E>
void expect_throw(const ir::Node& n, std::vector<std::optional<HostTensor>> in, const std::string& part = "") {
  try {
    run(n, std::move(in));
    ADD_FAILURE() << "no exception";
  } catch (const E& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(n.name), std::string::npos) << msg;
    EXPECT_NE(msg.find(n.op), std::string::npos) << msg;
    EXPECT_NE(msg.find(part), std::string::npos) << msg;
  }
}

}  // namespace

// ---- API -----------------------------------------------------------------------

TEST(HostOps, SupportedChecksOpOpsetAndDomain) {
  EXPECT_TRUE(hostops::supported(N("Add", 14)));
  EXPECT_TRUE(hostops::supported(N("Add", 0)));  // 0: newest
  EXPECT_FALSE(hostops::supported(N("LSTM", 14)));
  EXPECT_FALSE(hostops::supported(N("Range", 10)));  // Range is opset 11+
  EXPECT_FALSE(hostops::supported(N("Add", 99)));
  ir::Node n = N("Add", 14);
  n.domain = "com.microsoft";
  EXPECT_FALSE(hostops::supported(n));
  n.domain = "ai.onnx";
  EXPECT_TRUE(hostops::supported(n));
  const auto ops = hostops::supported_ops();
  EXPECT_TRUE(std::is_sorted(ops.begin(), ops.end()));
  EXPECT_GE(ops.size(), 100u);
}

TEST(HostOps, UnsupportedAndBadInputsThrowWithNodeAndOp) {
  expect_throw<Unsupported>(N("LSTM", 14), {F({1}, {1})});
  expect_throw<EvalError>(N("Add", 14), {F({2}, {1, 2})}, "input 1 is missing");
  HostTensor bad = F({2}, {1, 2});
  bad.data.pop_back();
  expect_throw<EvalError>(N("Relu", 14), {bad}, "bytes");
  expect_throw<EvalError>(N("Add", 14), {F({2}, {1, 2}), F({3}, {1, 2, 3})}, "broadcast");
  expect_throw<EvalError>(N("Add", 14), {F({2}, {1, 2}), I1({1, 2})}, "types differ");
  expect_throw<EvalError>(N("ConstantOfShape", 9), {I1({int64_t{1} << 40, 1 << 20})}, "too large");
  // the ir_text fuzzer's finding: a node name holding newlines broke the one-line error form
  ir::Node named = N("Add", 14);
  named.name = "two\nlines";
  try {
    run(named, {F({2}, {1, 2})});
    ADD_FAILURE() << "no error";
  } catch (const EvalError& e) {
    EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("two\\nlines"), std::string::npos) << e.what();
  }
}

TEST(HostOps, ReturnsOnePerDeclaredOutput) {
  // node declaring only the first output of a 2-output op
  auto out = run(N("Dropout", 13, {}, 1), {F({2}, {1, 2})});
  EXPECT_EQ(out.size(), 1u);
  ir::Node n = N("TopK", 11);
  n.outputs.clear();  // none declared: all of the op's outputs
  EXPECT_EQ(run(n, {F({3}, {1, 3, 2}), I1({2})}).size(), 2u);
}

// ---- constants and shapes -----------------------------------------------------------

TEST(HostOps, Constant) {
  const HostTensor v = I({2}, {kBig, -1});
  EXPECT_EQ(run1(N("Constant", 13, {{"value", v}}), {}), v);
  HostTensor f = run1(N("Constant", 13, {{"value_float", 1.5}}), {});
  EXPECT_EQ(f.type, ElemType::f32);
  EXPECT_TRUE(f.shape.empty());
  EXPECT_EQ(vals(f), (std::vector<double>{1.5}));
  HostTensor fs = run1(N("Constant", 13, {{"value_floats", std::vector<double>{1, 2}}}), {});
  EXPECT_EQ(fs.shape, Shape{2});
  HostTensor i = run1(N("Constant", 13, {{"value_int", int64_t{kBig}}}), {});
  EXPECT_EQ(i.type, ElemType::i64);
  EXPECT_EQ(ivals(i), (std::vector<int64_t>{kBig}));
  HostTensor is = run1(N("Constant", 13, {{"value_ints", std::vector<int64_t>{3, 4, 5}}}), {});
  EXPECT_EQ(is, I1({3, 4, 5}));
  expect_throw<Unsupported>(N("Constant", 13, {{"value_string", std::string("x")}}), {});
}

TEST(HostOps, ConstantOfShape) {
  HostTensor z = run1(N("ConstantOfShape", 9), {I1({2, 3})});
  EXPECT_EQ(z.type, ElemType::f32);
  EXPECT_EQ(z.shape, (Shape{2, 3}));
  EXPECT_EQ(vals(z), std::vector<double>(6, 0.0));
  HostTensor v = run1(N("ConstantOfShape", 9, {{"value", I({1}, {kBig})}}), {I1({2})});
  EXPECT_EQ(v, I1({kBig, kBig}));
  HostTensor s = run1(N("ConstantOfShape", 9, {{"value", F({1}, {7})}}), {I({0}, {})});
  EXPECT_TRUE(s.shape.empty());  // empty shape: a scalar
  EXPECT_EQ(vals(s), (std::vector<double>{7}));
  EXPECT_EQ(run1(N("ConstantOfShape", 9), {I1({2, 0})}).elements(), 0);
}

TEST(HostOps, ShapeSizeIdentity) {
  const HostTensor x(ElemType::f16, {2, 3, 4, 5});
  EXPECT_EQ(run1(N("Shape", 13), {x}), I1({2, 3, 4, 5}));
  EXPECT_EQ(run1(N("Shape", 15, {{"start", int64_t{1}}, {"end", int64_t{-1}}}), {x}), I1({3, 4}));
  EXPECT_EQ(run1(N("Shape", 15, {{"start", int64_t{-10}}, {"end", int64_t{10}}}), {x}), I1({2, 3, 4, 5}));
  EXPECT_EQ(run1(N("Shape", 15, {{"start", int64_t{3}}, {"end", int64_t{1}}}), {x}), I({0}, {}));
  EXPECT_EQ(run1(N("Shape", 13, {{"start", int64_t{1}}}), {x}), I1({2, 3, 4, 5}));  // no start before 15
  EXPECT_EQ(run1(N("Size", 13), {x}), S(120));
  EXPECT_EQ(run1(N("Identity", 16), {x}), x);
}

TEST(HostOps, Cast) {
  const int64_t f32 = 1, i32 = 6, i64 = 7, u8 = 2, i8 = 3, boolean = 9, f16 = 10, f64 = 11, u64 = 13;
  EXPECT_EQ(run1(N("Cast", 13, {{"to", i32}}), {F({4}, {2.7, -2.7, 0.5, -0.5})}), I({4}, {2, -2, 0, 0}, ElemType::i32));
  EXPECT_EQ(run1(N("Cast", 13, {{"to", boolean}}), {F({4}, {0, kNaN, 0.25, -0.0})}), B({4}, {0, 1, 1, 0}));
  EXPECT_EQ(run1(N("Cast", 13, {{"to", i8}}), {I1({300, -129, 127})}), I({3}, {44, 127, 127}, ElemType::i8));
  EXPECT_EQ(run1(N("Cast", 13, {{"to", u8}}), {I1({-1, 256})}), I({2}, {255, 0}, ElemType::u8));
  EXPECT_EQ(run1(N("Cast", 13, {{"to", i64}}), {I({2}, {-1, 5}, ElemType::i32)}), I1({-1, 5}));
  EXPECT_EQ(run1(N("Cast", 13, {{"to", u64}}), {I1({-1})}), I({1}, {-1}, ElemType::u64));
  // i64 -> f64 rounds once (2^53 + 1 -> 2^53), u64 all-ones -> 2^64
  EXPECT_EQ(vals(run1(N("Cast", 13, {{"to", f64}}), {I1({kBig})})), (std::vector<double>{9007199254740992.0}));
  EXPECT_EQ(vals(run1(N("Cast", 13, {{"to", f64}}), {I({1}, {-1}, ElemType::u64)})), (std::vector<double>{18446744073709551616.0}));
  EXPECT_EQ(vals(run1(N("Cast", 13, {{"to", f32}}), {B({2}, {1, 0})})), (std::vector<double>{1, 0}));
  HostTensor h = run1(N("Cast", 13, {{"to", f16}}), {F({2}, {1.0 + 1.0 / 4096, 70000})});
  EXPECT_EQ(h.type, ElemType::f16);
  EXPECT_EQ(h.get(0), 1.0);
  EXPECT_TRUE(std::isinf(h.get(1)));
  EXPECT_EQ(run1(N("Cast", 13, {{"to", std::string("i16")}}), {F({1}, {-3.9})}), I({1}, {-3}, ElemType::i16));
  expect_throw<Unsupported>(N("Cast", 13, {{"to", int64_t{8}}}), {F({1}, {1})}, "type 8");  // string
  EXPECT_EQ(run1(N("CastLike", 15), {F({2}, {1.9, -1.9}), I({0}, {}, ElemType::i16)}), I({2}, {1, -1}, ElemType::i16));
}

TEST(HostOps, Reshape) {
  const HostTensor x = F({2, 3, 4}, std::vector<double>(24, 1));
  EXPECT_EQ(run1(N("Reshape", 13), {x, I1({0, -1})}).shape, (Shape{2, 12}));
  EXPECT_EQ(run1(N("Reshape", 13), {x, I1({-1, 2, 2})}).shape, (Shape{6, 2, 2}));
  EXPECT_EQ(run1(N("Reshape", 1, {{"shape", std::vector<int64_t>{4, 0, -1}}}), {x}).shape, (Shape{4, 3, 2}));
  const HostTensor e = F({0, 3}, {});
  EXPECT_EQ(run1(N("Reshape", 14, {{"allowzero", int64_t{1}}}), {e, I1({3, 0})}).shape, (Shape{3, 0}));
  expect_throw<EvalError>(N("Reshape", 14), {e, I1({3, 0})}, "cannot reshape");  // 0 copies dim 1 (3)
  expect_throw<EvalError>(N("Reshape", 13), {x, I1({5, -1})}, "infer");
  expect_throw<EvalError>(N("Reshape", 13), {x, I1({-1, -1})}, "more than one");
  expect_throw<EvalError>(N("Reshape", 13), {x, I1({2, 3})}, "cannot reshape");
}

TEST(HostOps, FlattenSqueezeUnsqueeze) {
  const HostTensor x = F({2, 1, 3, 1}, std::vector<double>(6, 0));
  EXPECT_EQ(run1(N("Flatten", 13), {x}).shape, (Shape{2, 3}));
  EXPECT_EQ(run1(N("Flatten", 13, {{"axis", int64_t{0}}}), {x}).shape, (Shape{1, 6}));
  EXPECT_EQ(run1(N("Flatten", 13, {{"axis", int64_t{-1}}}), {x}).shape, (Shape{6, 1}));
  EXPECT_EQ(run1(N("Flatten", 13, {{"axis", int64_t{4}}}), {x}).shape, (Shape{6, 1}));
  EXPECT_EQ(run1(N("Squeeze", 11), {x}).shape, (Shape{2, 3}));
  EXPECT_EQ(run1(N("Squeeze", 11, {{"axes", std::vector<int64_t>{-1}}}), {x}).shape, (Shape{2, 1, 3}));
  EXPECT_EQ(run1(N("Squeeze", 13), {x, I1({1})}).shape, (Shape{2, 3, 1}));
  EXPECT_EQ(run1(N("Squeeze", 13), {x, std::nullopt}).shape, (Shape{2, 3}));
  expect_throw<EvalError>(N("Squeeze", 13), {x, I1({0})}, "size 2");
  EXPECT_EQ(run1(N("Unsqueeze", 11, {{"axes", std::vector<int64_t>{0, -1}}}), {x}).shape, (Shape{1, 2, 1, 3, 1, 1}));
  EXPECT_EQ(run1(N("Unsqueeze", 13), {F({3}, {1, 2, 3}), I1({2, 0})}).shape, (Shape{1, 3, 1}));
  EXPECT_EQ(run1(N("Unsqueeze", 13), {F({}, {5}), I1({0})}).shape, (Shape{1}));
  expect_throw<EvalError>(N("Unsqueeze", 13), {F({3}, {1, 2, 3}), I1({0, 0})}, "repeated");
}

TEST(HostOps, ConcatSplit) {
  const HostTensor a = I({2, 1}, {1, 2}), b = I({2, 2}, {3, 4, 5, 6});
  EXPECT_EQ(run1(N("Concat", 13, {{"axis", int64_t{-1}}}), {a, b}), I({2, 3}, {1, 3, 4, 2, 5, 6}));
  EXPECT_EQ(run1(N("Concat", 13, {{"axis", int64_t{0}}}), {I1({kBig}), I({0}, {}), I1({-1})}), I1({kBig, -1}));
  expect_throw<EvalError>(N("Concat", 13, {{"axis", int64_t{0}}}), {a, b}, "differ");

  const HostTensor x = F({2, 4}, {0, 1, 2, 3, 4, 5, 6, 7});
  auto eq = run(N("Split", 13, {{"axis", int64_t{1}}}, 2), {x});
  EXPECT_EQ(eq[0], F({2, 2}, {0, 1, 4, 5}));
  EXPECT_EQ(eq[1], F({2, 2}, {2, 3, 6, 7}));
  auto sa = run(N("Split", 11, {{"axis", int64_t{-1}}, {"split", std::vector<int64_t>{1, 3}}}, 2), {x});
  EXPECT_EQ(sa[0], F({2, 1}, {0, 4}));
  EXPECT_EQ(sa[1], F({2, 3}, {1, 2, 3, 5, 6, 7}));
  auto si = run(N("Split", 13, {{"axis", int64_t{1}}}, 3), {x, I1({1, 0, 3})});
  EXPECT_EQ(si[1].shape, (Shape{2, 0}));
  EXPECT_EQ(si[2], F({2, 3}, {1, 2, 3, 5, 6, 7}));
  auto s18 = run(N("Split", 18, {{"axis", int64_t{1}}, {"num_outputs", int64_t{3}}}, 3), {x});
  EXPECT_EQ(s18[0].shape, (Shape{2, 2}));
  EXPECT_EQ(s18[2], F({2, 0}, {}));
  expect_throw<EvalError>(N("Split", 13, {}, 3), {F({4}, {1, 2, 3, 4})}, "equal parts");
  expect_throw<EvalError>(N("Split", 13, {}, 2), {F({4}, {1, 2, 3, 4}), I1({1, 2})}, "sum to 3");
}

TEST(HostOps, Slice) {
  const HostTensor x = I({3, 4}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11});
  // opset 1-9: attributes
  EXPECT_EQ(run1(N("Slice", 9, {{"starts", std::vector<int64_t>{1}}, {"ends", std::vector<int64_t>{1000}}, {"axes", std::vector<int64_t>{1}}}), {x}),
            I({3, 3}, {1, 2, 3, 5, 6, 7, 9, 10, 11}));
  EXPECT_EQ(run1(N("Slice", 13), {x, I1({-2, 1}), I1({INT64_MAX, -1})}), I({2, 2}, {5, 6, 9, 10}));
  // negative steps and clamping
  EXPECT_EQ(run1(N("Slice", 13), {x, I1({-1}), I1({INT64_MIN}), I1({-1}), I1({-1})}),
            I({3, 4}, {3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8}));
  EXPECT_EQ(run1(N("Slice", 13), {x, I1({10, 0}), I1({-10, 10}), I1({0, 1}), I1({-2, 3})}), I({2, 2}, {8, 11, 0, 3}));
  EXPECT_EQ(run1(N("Slice", 13), {x, I1({2}), I1({1}), I1({1})}).shape, (Shape{3, 0}));
  EXPECT_EQ(run1(N("Slice", 13), {x, I1({0}), I1({2}), std::nullopt, I1({1})}), I({2, 4}, {0, 1, 2, 3, 4, 5, 6, 7}));
  expect_throw<EvalError>(N("Slice", 13), {x, I1({0}), I1({1}), I1({0}), I1({0})}, "step is 0");
}

TEST(HostOps, GatherAndGatherElements) {
  const HostTensor x = I({3, 2}, {1, 2, 3, 4, 5, 6});
  EXPECT_EQ(run1(N("Gather", 13), {x, I({2, 2}, {0, -1, 1, 2})}), I({2, 2, 2}, {1, 2, 5, 6, 3, 4, 5, 6}));
  EXPECT_EQ(run1(N("Gather", 13, {{"axis", int64_t{-1}}}), {x, S(1)}), I({3}, {2, 4, 6}));
  EXPECT_EQ(run1(N("Gather", 13), {I1({7, 8, 9}), I({}, {-3}, ElemType::i32)}), S(7));
  expect_throw<EvalError>(N("Gather", 13), {x, I1({3})}, "out of range");
  expect_throw<EvalError>(N("Gather", 13), {x, I1({-4})}, "out of range");
  EXPECT_EQ(run1(N("GatherElements", 13, {{"axis", int64_t{1}}}), {x, I({3, 1}, {1, 0, -1})}), I({3, 1}, {2, 3, 6}));
  EXPECT_EQ(run1(N("GatherElements", 13), {x, I({2, 2}, {2, 0, 1, 2})}), I({2, 2}, {5, 2, 3, 6}));
  expect_throw<EvalError>(N("GatherElements", 13), {x, I({1, 1}, {3})}, "out of range");
}

TEST(HostOps, ExpandTileTranspose) {
  EXPECT_EQ(run1(N("Expand", 13), {I({3, 1}, {1, 2, 3}), I1({2, 1, 2})}), I({2, 3, 2}, {1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3}));
  EXPECT_EQ(run1(N("Expand", 13), {I({3, 1}, {1, 2, 3}), I1({1})}).shape, (Shape{3, 1}));  // shape smaller than input
  expect_throw<EvalError>(N("Expand", 13), {I({3}, {1, 2, 3}), I1({2})}, "broadcast");
  EXPECT_EQ(run1(N("Tile", 13), {I({2, 1}, {1, 2}), I1({2, 3})}), I({4, 3}, {1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2}));
  EXPECT_EQ(run1(N("Tile", 13), {I({2}, {1, 2}), I1({0})}).shape, (Shape{0}));
  const HostTensor x = I({2, 3}, {0, 1, 2, 3, 4, 5});
  EXPECT_EQ(run1(N("Transpose", 13), {x}), I({3, 2}, {0, 3, 1, 4, 2, 5}));
  const HostTensor y = I({1, 2, 3}, {0, 1, 2, 3, 4, 5});
  EXPECT_EQ(run1(N("Transpose", 13, {{"perm", std::vector<int64_t>{2, 0, 1}}}), {y}), I({3, 1, 2}, {0, 3, 1, 4, 2, 5}));
  expect_throw<EvalError>(N("Transpose", 13, {{"perm", std::vector<int64_t>{0, 0, 1}}}), {y}, "permutation");
}

TEST(HostOps, Range) {
  EXPECT_EQ(run1(N("Range", 11), {S(1), S(10), S(3)}), I1({1, 4, 7}));
  EXPECT_EQ(run1(N("Range", 11), {S(10), S(4), S(-3)}), I1({10, 7}));
  EXPECT_EQ(run1(N("Range", 11), {S(5), S(5), S(1)}).shape, (Shape{0}));
  EXPECT_EQ(run1(N("Range", 11), {S(kBig), S(kBig + 3), S(2)}), I1({kBig, kBig + 2}));
  EXPECT_EQ(run1(N("Range", 11), {S(INT64_MAX - 1), S(INT64_MAX), S(5)}), I1({INT64_MAX - 1}));
  HostTensor f = run1(N("Range", 11), {F({}, {0}), F({}, {1}), F({}, {0.25})});
  expect_near(f, {0, 0.25, 0.5, 0.75});
  expect_throw<EvalError>(N("Range", 11), {S(0), S(1), S(0)}, "delta");
}

TEST(HostOps, WhereAndComparisons) {
  EXPECT_EQ(run1(N("Where", 16), {B({2, 1}, {1, 0}), I1({1, 2}), I({}, {kBig})}), I({2, 2}, {1, 2, kBig, kBig}));
  // int64 compares exactly beyond 2^53
  EXPECT_EQ(run1(N("Less", 13), {I1({kBig - 1, kBig}), I1({kBig})}), B({2}, {1, 0}));
  EXPECT_EQ(run1(N("Equal", 13), {I1({kBig - 1, kBig}), I1({kBig})}), B({2}, {0, 1}));
  EXPECT_EQ(run1(N("Greater", 13), {F({3}, {1, kNaN, 3}), F({1}, {2})}), B({3}, {0, 0, 1}));
  EXPECT_EQ(run1(N("LessOrEqual", 16), {F({2}, {2, 3}), F({}, {2})}), B({2}, {1, 0}));
  EXPECT_EQ(run1(N("GreaterOrEqual", 16), {I({2}, {-1, 5}, ElemType::u64), I({1}, {5}, ElemType::u64)}), B({2}, {1, 1}));
  EXPECT_EQ(run1(N("Equal", 13), {B({2}, {1, 0}), B({2}, {1, 1})}), B({2}, {1, 0}));
}

TEST(HostOps, Logic) {
  const HostTensor a = B({4}, {0, 0, 1, 1}), b = B({4}, {0, 1, 0, 1});
  EXPECT_EQ(run1(N("And", 7), {a, b}), B({4}, {0, 0, 0, 1}));
  EXPECT_EQ(run1(N("Or", 7), {a, b}), B({4}, {0, 1, 1, 1}));
  EXPECT_EQ(run1(N("Xor", 7), {a, b}), B({4}, {0, 1, 1, 0}));
  EXPECT_EQ(run1(N("Not", 1), {a}), B({4}, {1, 1, 0, 0}));
  EXPECT_EQ(run1(N("And", 7), {B({2, 1}, {1, 0}), B({2}, {1, 1})}), B({2, 2}, {1, 1, 0, 0}));
  expect_throw<EvalError>(N("And", 7), {I1({1}), I1({1})}, "bool");
}

TEST(HostOps, AddSubMulIntegerExactness) {
  EXPECT_EQ(run1(N("Add", 14), {I1({kBig, INT64_MAX}), I1({2, 1})}), I1({kBig + 2, INT64_MIN}));  // wraps
  EXPECT_EQ(run1(N("Sub", 14), {I1({INT64_MIN}), I1({1})}), I1({INT64_MAX}));
  EXPECT_EQ(run1(N("Mul", 14), {I1({int64_t{1} << 62}), I1({4})}), I1({0}));
  EXPECT_EQ(run1(N("Mul", 14), {I1({kBig}), I1({3})}), I1({3 * kBig}));
  EXPECT_EQ(run1(N("Add", 14), {I({2}, {127, -128}, ElemType::i8), I({1}, {1}, ElemType::i8)}), I({2}, {-128, -127}, ElemType::i8));
  EXPECT_EQ(run1(N("Sub", 14), {I({1}, {0}, ElemType::u8), I({1}, {1}, ElemType::u8)}), I({1}, {255}, ElemType::u8));
  // numpy broadcasting
  EXPECT_EQ(run1(N("Add", 14), {I({2, 1}, {10, 20}), I({3}, {1, 2, 3})}), I({2, 3}, {11, 12, 13, 21, 22, 23}));
  expect_near(run1(N("Mul", 14), {F({2}, {1.5, -2}), F({}, {2})}), {3, -4});
  HostTensor h = run1(N("Add", 14), {F({1}, {2048}, ElemType::f16), F({1}, {1}, ElemType::f16)});
  EXPECT_EQ(h.get(0), 2048);  // rounded to f16 (ties to even)
}

TEST(HostOps, LegacyBroadcastAttribute) {
  const HostTensor a = F({2, 3}, {1, 2, 3, 4, 5, 6});
  // opset < 7: B aligned at axis 0 of A
  expect_near(run1(N("Add", 6, {{"broadcast", int64_t{1}}, {"axis", int64_t{0}}}), {a, F({2}, {10, 20})}), {11, 12, 13, 24, 25, 26});
  expect_near(run1(N("Add", 6, {{"broadcast", int64_t{1}}}), {a, F({3}, {10, 20, 30})}), {11, 22, 33, 14, 25, 36});
  expect_throw<EvalError>(N("Add", 6), {a, F({3}, {10, 20, 30})}, "broadcast=0");
}

TEST(HostOps, DivMod) {
  EXPECT_EQ(run1(N("Div", 14), {I1({7, -7, 7, -7, INT64_MIN}), I1({2, 2, -2, -2, -1})}), I1({3, -3, -3, 3, INT64_MIN}));
  EXPECT_EQ(run1(N("Div", 14), {I({1}, {-1}, ElemType::u64), I({1}, {2}, ElemType::u64)}), I({1}, {INT64_MAX}, ElemType::u64));
  expect_throw<EvalError>(N("Div", 14), {I1({1}), I1({0})}, "division by zero");
  expect_near(run1(N("Div", 14), {F({2}, {1, -3}), F({1}, {4})}), {0.25, -0.75});
  EXPECT_EQ(run1(N("Mod", 13), {I1({7, -7, 7, -7}), I1({3, 3, -3, -3})}), I1({1, 2, -2, -1}));
  EXPECT_EQ(run1(N("Mod", 13, {{"fmod", int64_t{1}}}), {I1({7, -7, 7, -7}), I1({3, 3, -3, -3})}), I1({1, -1, 1, -1}));
  EXPECT_EQ(run1(N("Mod", 13), {I1({INT64_MIN}), I1({-1})}), I1({0}));
  expect_near(run1(N("Mod", 13, {{"fmod", int64_t{1}}}), {F({2}, {5.5, -5.5}), F({1}, {2})}), {1.5, -1.5});
  expect_near(run1(N("Mod", 13), {F({2}, {5.5, -5.5}), F({1}, {2})}), {1.5, 0.5});
  expect_throw<EvalError>(N("Mod", 13), {I1({1}), I1({0})}, "by zero");
}

TEST(HostOps, VariadicMinMaxSumMean) {
  EXPECT_EQ(run1(N("Max", 13), {I1({1, kBig}), I1({kBig - 1}), I({2, 1}, {0, 5})}), I({2, 2}, {kBig - 1, kBig, kBig - 1, kBig}));
  EXPECT_EQ(run1(N("Min", 13), {I1({3, -kBig})}), I1({3, -kBig}));
  EXPECT_EQ(run1(N("Min", 13), {I({1}, {-1}, ElemType::u64), I({1}, {1}, ElemType::u64)}), I({1}, {1}, ElemType::u64));
  expect_near(run1(N("Max", 13), {F({2}, {1, kNaN}), F({2}, {2, 0})}), {2, kNaN});
  EXPECT_EQ(run1(N("Sum", 13), {I1({kBig}), I1({1}), I1({1})}), I1({kBig + 2}));
  expect_near(run1(N("Mean", 13), {F({2}, {1, 2}), F({2}, {2, 4}), F({1}, {6})}), {3, 4});
}

TEST(HostOps, UnaryMath) {
  EXPECT_EQ(run1(N("Neg", 13), {I1({INT64_MIN, 5})}), I1({INT64_MIN, -5}));
  EXPECT_EQ(run1(N("Abs", 13), {I({2}, {-128, -3}, ElemType::i8)}), I({2}, {-128, 3}, ElemType::i8));  // numpy wraps
  EXPECT_EQ(run1(N("Sign", 13), {I1({-kBig, 0, 3})}), I1({-1, 0, 1}));
  EXPECT_EQ(run1(N("Relu", 14), {I({3}, {-5, 0, 7}, ElemType::i32)}), I({3}, {0, 0, 7}, ElemType::i32));
  expect_near(run1(N("Sqrt", 13), {F({2}, {4, 2})}), {2, std::sqrt(2.0)});
  expect_near(run1(N("Reciprocal", 13), {F({2}, {4, -0.5})}), {0.25, -2});
  expect_near(run1(N("Exp", 13), {F({2}, {0, 1})}), {1, std::exp(1.0)});
  expect_near(run1(N("Log", 13), {F({3}, {1, 0, -1})}), {0, -kInf, kNaN});
  expect_near(run1(N("Floor", 13), {F({3}, {1.5, -1.5, 2})}), {1, -2, 2});
  expect_near(run1(N("Ceil", 13), {F({3}, {1.5, -1.5, 2})}), {2, -1, 2});
  expect_near(run1(N("Round", 11), {F({6}, {0.5, 1.5, 2.5, -0.5, -1.5, 2.6})}), {0, 2, 2, -0.0, -2, 3});
  expect_near(run1(N("Sign", 13), {F({4}, {-2, 0, 3, kNaN})}), {-1, 0, 1, kNaN});
  expect_near(run1(N("Relu", 14), {F({2}, {-1, 2})}), {0, 2});
  expect_near(run1(N("Sigmoid", 13), {F({3}, {0, 1000, -1000})}), {0.5, 1, 0});
  expect_near(run1(N("Tanh", 13), {F({2}, {0, 1})}), {0, std::tanh(1.0)});
  expect_near(run1(N("Erf", 13), {F({2}, {0, 1})}), {0, 0.8427007929497149});
  expect_near(run1(N("LeakyRelu", 16, {{"alpha", 0.1}}), {F({2}, {-2, 3})}), {-0.2, 3});
  expect_near(run1(N("HardSigmoid", 6), {F({3}, {-5, 0, 5})}), {0, 0.5, 1});
  expect_near(run1(N("Softplus", 1), {F({2}, {0, 100})}), {std::log(2.0), 100});
}

TEST(HostOps, Pow) {
  EXPECT_EQ(run1(N("Pow", 15), {I1({3, -2, 2, 2}), I1({39, 3, 0, -1})}), I1({4052555153018976267, -8, 1, 0}));
  EXPECT_EQ(run1(N("Pow", 15), {I({1}, {3}, ElemType::i32), F({1}, {2.5})}), I({1}, {15}, ElemType::i32));  // 15.58 truncated
  expect_near(run1(N("Pow", 15), {F({3}, {2, 4, -8}), I({1}, {2}, ElemType::i32)}), {4, 16, 64});
  expect_near(run1(N("Pow", 13), {F({2}, {4, 2}), F({2}, {0.5, -1})}), {2, 0.5});
}

TEST(HostOps, Clip) {
  const HostTensor x = F({4}, {-3, 0.5, 3, kNaN});
  expect_near(run1(N("Clip", 6, {{"min", -1.0}, {"max", 1.0}}), {x}), {-1, 0.5, 1, kNaN});
  expect_near(run1(N("Clip", 6, {{"max", 1.0}}), {x}), {-3, 0.5, 1, kNaN});
  expect_near(run1(N("Clip", 13), {x, F({}, {0}), std::nullopt}), {0, 0.5, 3, kNaN});
  expect_near(run1(N("Clip", 13), {x, F({}, {2}), F({}, {1})}), {1, 1, 1, kNaN});  // min > max: max
  EXPECT_EQ(run1(N("Clip", 13), {I1({-kBig, 0, kBig}), std::nullopt, I({}, {kBig - 1})}), I1({-kBig, 0, kBig - 1}));
}

TEST(HostOps, Reductions) {
  const HostTensor x = F({2, 3}, {1, 2, 3, 4, 5, 6});
  expect_near(run1(N("ReduceSum", 11, {{"axes", std::vector<int64_t>{1}}}), {x}), {6, 15});
  EXPECT_EQ(run1(N("ReduceSum", 11, {{"axes", std::vector<int64_t>{1}}}), {x}).shape, (Shape{2, 1}));
  EXPECT_EQ(run1(N("ReduceSum", 13, {{"keepdims", int64_t{0}}}), {x, I1({-2})}), F({3}, {5, 7, 9}));
  EXPECT_EQ(run1(N("ReduceSum", 13), {x}), F({1, 1}, {21}));
  EXPECT_EQ(run1(N("ReduceSum", 13, {{"noop_with_empty_axes", int64_t{1}}}), {x, I({0}, {})}), x);
  EXPECT_EQ(run1(N("ReduceSum", 13, {{"keepdims", int64_t{0}}}), {x}).shape, Shape{});
  EXPECT_EQ(run1(N("ReduceSum", 13, {{"keepdims", int64_t{0}}}), {I1({kBig, 1, 1})}), S(kBig + 2));
  expect_near(run1(N("ReduceMean", 13, {{"axes", std::vector<int64_t>{0}}}), {x}), {2.5, 3.5, 4.5});
  expect_near(run1(N("ReduceMax", 13, {{"axes", std::vector<int64_t>{1}}, {"keepdims", int64_t{0}}}), {x}), {3, 6});
  expect_near(run1(N("ReduceMin", 13, {{"axes", std::vector<int64_t>{1}}}), {x}), {1, 4});
  expect_near(run1(N("ReduceProd", 13, {{"axes", std::vector<int64_t>{1}}}), {x}), {6, 120});
  expect_near(run1(N("ReduceSumSquare", 13, {{"axes", std::vector<int64_t>{1}}}), {x}), {14, 77});
  expect_near(run1(N("ReduceL1", 13, {{"axes", std::vector<int64_t>{1}}}), {F({1, 2}, {-3, 4})}), {7});
  expect_near(run1(N("ReduceL2", 13, {{"axes", std::vector<int64_t>{1}}}), {F({1, 2}, {-3, 4})}), {5});
  expect_near(run1(N("ReduceLogSum", 13), {F({2}, {1, 2})}), {std::log(3.0)});
  expect_near(run1(N("ReduceLogSumExp", 13), {F({2}, {1000, 1000})}), {1000 + std::log(2.0)});
  EXPECT_EQ(run1(N("ReduceMax", 13), {I1({kBig - 1, kBig})}), I({1}, {kBig}));
  EXPECT_EQ(run1(N("ReduceProd", 13), {I({2}, {16, 16}, ElemType::u8)}), I({1}, {0}, ElemType::u8));  // wraps
  // opset 18: axes as input for all reductions
  expect_near(run1(N("ReduceMax", 18, {{"keepdims", int64_t{0}}}), {x, I1({0})}), {4, 5, 6});
  // empty reductions
  expect_near(run1(N("ReduceSum", 13), {F({0, 2}, {}), I1({0})}), {0, 0});
  expect_near(run1(N("ReduceMax", 13, {{"axes", std::vector<int64_t>{0}}}), {F({0, 1}, {})}), {-kInf});
}

TEST(HostOps, ArgMaxArgMin) {
  const HostTensor x = F({2, 3}, {1, 3, 3, 5, 0, 5});
  EXPECT_EQ(run1(N("ArgMax", 13, {{"axis", int64_t{1}}}), {x}), I({2, 1}, {1, 0}));
  EXPECT_EQ(run1(N("ArgMax", 13, {{"axis", int64_t{-1}}, {"select_last_index", int64_t{1}}, {"keepdims", int64_t{0}}}), {x}), I1({2, 2}));
  EXPECT_EQ(run1(N("ArgMin", 13), {x}), I({1, 3}, {0, 1, 0}));
  EXPECT_EQ(run1(N("ArgMin", 13, {{"keepdims", int64_t{0}}}), {I1({kBig, kBig - 1})}), S(1));
}

TEST(HostOps, CumSum) {
  const HostTensor x = I({2, 3}, {1, 2, 3, 4, 5, 6});
  EXPECT_EQ(run1(N("CumSum", 14), {x, S(1)}), I({2, 3}, {1, 3, 6, 4, 9, 15}));
  EXPECT_EQ(run1(N("CumSum", 14, {{"exclusive", int64_t{1}}}), {x, I({1}, {-1}, ElemType::i32)}), I({2, 3}, {0, 1, 3, 0, 4, 9}));
  EXPECT_EQ(run1(N("CumSum", 14, {{"reverse", int64_t{1}}}), {x, S(0)}), I({2, 3}, {5, 7, 9, 4, 5, 6}));
  EXPECT_EQ(run1(N("CumSum", 14, {{"reverse", int64_t{1}}, {"exclusive", int64_t{1}}}), {x, S(1)}), I({2, 3}, {5, 3, 0, 11, 6, 0}));
  expect_near(run1(N("CumSum", 14), {F({3}, {0.5, 0.25, 1}), S(0)}), {0.5, 0.75, 1.75});
}

TEST(HostOps, TriluEyeLikeOneHot) {
  const HostTensor x = I({3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9});
  EXPECT_EQ(run1(N("Trilu", 14), {x}), I({3, 3}, {1, 2, 3, 0, 5, 6, 0, 0, 9}));
  EXPECT_EQ(run1(N("Trilu", 14, {{"upper", int64_t{0}}}), {x, S(-1)}), I({3, 3}, {0, 0, 0, 4, 0, 0, 7, 8, 0}));
  EXPECT_EQ(run1(N("Trilu", 14), {x, S(1)}), I({3, 3}, {0, 2, 3, 0, 0, 6, 0, 0, 0}));
  EXPECT_EQ(run1(N("Trilu", 14), {x, S(INT64_MIN)}), x);
  EXPECT_EQ(run1(N("EyeLike", 9, {{"k", int64_t{1}}}), {F({2, 3}, std::vector<double>(6, 7))}), F({2, 3}, {0, 1, 0, 0, 0, 1}));
  EXPECT_EQ(run1(N("EyeLike", 9, {{"dtype", int64_t{7}}, {"k", int64_t{-1}}}), {F({3, 2}, std::vector<double>(6, 0))}),
            I({3, 2}, {0, 0, 1, 0, 0, 1}));
  // negative index counts from the end; out-of-range gives all off
  EXPECT_EQ(run1(N("OneHot", 11), {I1({0, -1, 5}), S(3), I1({-1, 9})}), I({3, 3}, {9, -1, -1, -1, -1, 9, -1, -1, -1}));
  EXPECT_EQ(run1(N("OneHot", 11, {{"axis", int64_t{0}}}), {I1({1, 0}), F({}, {2.7}), F({2}, {0, 1})}), F({2, 2}, {0, 1, 1, 0}));
}

TEST(HostOps, Pad) {
  const HostTensor x = I({2, 3}, {1, 2, 3, 4, 5, 6});
  EXPECT_EQ(run1(N("Pad", 13), {x, I1({0, 1, 1, 0}), S(9)}), I({3, 4}, {9, 1, 2, 3, 9, 4, 5, 6, 9, 9, 9, 9}));
  EXPECT_EQ(run1(N("Pad", 13, {{"mode", std::string("reflect")}}), {x, I1({0, 2, 0, 2})}),
            I({2, 7}, {3, 2, 1, 2, 3, 2, 1, 6, 5, 4, 5, 6, 5, 4}));
  EXPECT_EQ(run1(N("Pad", 13, {{"mode", std::string("edge")}}), {x, I1({1, 1, 0, 0})}),
            I({3, 4}, {1, 1, 2, 3, 1, 1, 2, 3, 4, 4, 5, 6}));
  EXPECT_EQ(run1(N("Pad", 13), {x, I1({0, -1, 0, -1})}), I({2, 1}, {2, 5}));  // negative pads crop
  expect_near(run1(N("Pad", 2, {{"pads", std::vector<int64_t>{1, 0}}, {"value", 1.5}}), {F({1}, {3})}), {1.5, 3});
  EXPECT_EQ(run1(N("Pad", 18), {x, I1({1, 1}), S(0), I1({-1})}), I({2, 5}, {0, 1, 2, 3, 0, 0, 4, 5, 6, 0}));
  expect_throw<Unsupported>(N("Pad", 13, {{"mode", std::string("wrap")}}), {x, I1({0, 0, 0, 0})});
  expect_throw<EvalError>(N("Pad", 13), {x, I1({0, 0})}, "pads");
}

TEST(HostOps, IsNaNIsInfDropout) {
  const HostTensor x = F({4}, {1, kNaN, kInf, -kInf});
  EXPECT_EQ(run1(N("IsNaN", 13), {x}), B({4}, {0, 1, 0, 0}));
  EXPECT_EQ(run1(N("IsInf", 10), {x}), B({4}, {0, 0, 1, 1}));
  EXPECT_EQ(run1(N("IsInf", 10, {{"detect_positive", int64_t{0}}}), {x}), B({4}, {0, 0, 0, 1}));
  auto d = run(N("Dropout", 13, {}, 2), {x, F({}, {0.3}), B({}, {0})});
  EXPECT_EQ(vals(d[0]).size(), 4u);
  EXPECT_EQ(d[1], B({4}, {1, 1, 1, 1}));
  auto d7 = run(N("Dropout", 7, {{"ratio", 0.5}}, 2), {F({1}, {2})});
  EXPECT_EQ(d7[1], F({1}, {1}));  // mask has the input type before opset 10
  expect_throw<Unsupported>(N("Dropout", 13, {}, 2), {x, F({}, {0.3}), B({}, {1})}, "training");
}

TEST(HostOps, DepthToSpaceSpaceToDepth) {
  HostTensor x(ElemType::i64, {1, 4, 1, 1});
  for (int i = 0; i < 4; ++i) x.set_int(i, i);
  EXPECT_EQ(run1(N("DepthToSpace", 13, {{"blocksize", int64_t{2}}}), {x}), I({1, 1, 2, 2}, {0, 1, 2, 3}));
  const HostTensor y = I({1, 1, 2, 2}, {0, 1, 2, 3});
  EXPECT_EQ(run1(N("SpaceToDepth", 13, {{"blocksize", int64_t{2}}}), {y}), I({1, 4, 1, 1}, {0, 1, 2, 3}));
}

// ---- host fallback ops -------------------------------------------------------------

TEST(HostOps, NonZero) {
  EXPECT_EQ(run1(N("NonZero", 13), {F({2, 2}, {1, 0, 0, 3})}), I({2, 2}, {0, 1, 0, 1}));
  EXPECT_EQ(run1(N("NonZero", 13), {B({3}, {0, 0, 0})}), I({1, 0}, {}));
  EXPECT_EQ(run1(N("NonZero", 13), {I({}, {5})}), I({1, 1}, {0}));
}

TEST(HostOps, TopK) {
  const HostTensor x = F({2, 4}, {1, 4, 4, 2, 0, -1, 7, 7});
  auto t = run(N("TopK", 11, {}, 2), {x, I1({2})});
  EXPECT_EQ(t[0], F({2, 2}, {4, 4, 7, 7}));
  EXPECT_EQ(t[1], I({2, 2}, {1, 2, 2, 3}));  // ties: lower index first
  auto s = run(N("TopK", 11, {{"largest", int64_t{0}}, {"axis", int64_t{0}}}, 2), {x, I1({1})});
  EXPECT_EQ(s[0], F({1, 4}, {0, -1, 4, 2}));
  EXPECT_EQ(s[1], I({1, 4}, {1, 1, 0, 0}));
  auto k1 = run(N("TopK", 1, {{"k", int64_t{1}}}, 2), {I1({kBig - 1, kBig})});
  EXPECT_EQ(k1[0], I1({kBig}));
  EXPECT_EQ(k1[1], I1({1}));
  expect_throw<EvalError>(N("TopK", 11, {}, 2), {x, I1({5})}, "K=5");
}

TEST(HostOps, Unique) {
  const HostTensor x = F({6}, {2, 1, 1, 3, 4, 3});
  auto u = run(N("Unique", 11, {}, 4), {x});
  EXPECT_EQ(u[0], F({4}, {1, 2, 3, 4}));
  EXPECT_EQ(u[1], I1({1, 0, 3, 4}));
  EXPECT_EQ(u[2], I1({1, 0, 0, 2, 3, 2}));
  EXPECT_EQ(u[3], I1({2, 1, 2, 1}));
  auto n = run(N("Unique", 11, {{"sorted", int64_t{0}}}, 4), {x});
  EXPECT_EQ(n[0], F({4}, {2, 1, 3, 4}));
  EXPECT_EQ(n[1], I1({0, 1, 3, 4}));
  EXPECT_EQ(n[2], I1({0, 1, 1, 2, 3, 2}));
  EXPECT_EQ(n[3], I1({1, 2, 2, 1}));
  auto a = run(N("Unique", 11, {{"axis", int64_t{0}}}, 4), {I({3, 2}, {1, 0, 0, 1, 1, 0})});
  EXPECT_EQ(a[0], I({2, 2}, {0, 1, 1, 0}));
  EXPECT_EQ(a[1], I1({1, 0}));
  EXPECT_EQ(a[2], I1({1, 0, 1}));
  EXPECT_EQ(a[3], I1({1, 2}));
  auto b = run(N("Unique", 11, {{"axis", int64_t{-1}}}, 4), {I({2, 3}, {kBig, kBig - 1, kBig, 0, 0, 0})});
  EXPECT_EQ(b[0], I({2, 2}, {kBig - 1, kBig, 0, 0}));
  EXPECT_EQ(b[2], I1({1, 0, 1}));
}

TEST(HostOps, Compress) {
  const HostTensor x = I({3, 2}, {1, 2, 3, 4, 5, 6});
  EXPECT_EQ(run1(N("Compress", 11, {{"axis", int64_t{0}}}), {x, B({3}, {0, 1, 1})}), I({2, 2}, {3, 4, 5, 6}));
  EXPECT_EQ(run1(N("Compress", 11, {{"axis", int64_t{-1}}}), {x, B({1}, {1})}), I({3, 1}, {1, 3, 5}));  // short condition
  EXPECT_EQ(run1(N("Compress", 11), {x, B({5}, {0, 1, 0, 0, 1})}), I1({2, 5}));
  expect_throw<EvalError>(N("Compress", 11, {{"axis", int64_t{0}}}), {x, B({4}, {0, 0, 0, 1})}, "condition");
}

TEST(HostOps, ScatterElements) {
  const HostTensor x = I({2, 3}, {0, 0, 0, 0, 0, 0});
  const HostTensor idx = I({2, 2}, {1, -1, 0, 0}), upd = I({2, 2}, {1, 2, 3, 4});
  EXPECT_EQ(run1(N("ScatterElements", 13, {{"axis", int64_t{1}}}), {x, idx, upd}), I({2, 3}, {0, 1, 2, 4, 0, 0}));
  EXPECT_EQ(run1(N("ScatterElements", 16, {{"axis", int64_t{1}}, {"reduction", std::string("add")}}), {x, idx, upd}),
            I({2, 3}, {0, 1, 2, 7, 0, 0}));
  EXPECT_EQ(run1(N("ScatterElements", 16, {{"axis", int64_t{1}}, {"reduction", std::string("mul")}}), {I({2, 3}, {1, 1, 1, 1, 1, 1}), idx, upd}),
            I({2, 3}, {1, 1, 2, 12, 1, 1}));
  EXPECT_EQ(run1(N("ScatterElements", 13), {x, I({1, 2}, {1, 0}), I({1, 2}, {kBig, 5})}), I({2, 3}, {0, 5, 0, kBig, 0, 0}));
  expect_throw<Unsupported>(N("ScatterElements", 13, {{"reduction", std::string("add")}}), {x, idx, upd}, "reduction");
  expect_throw<EvalError>(N("ScatterElements", 13), {x, I({1, 1}, {2}), I({1, 1}, {1})}, "out of range");
  EXPECT_EQ(run1(N("Scatter", 9), {I1({0, 0}), I1({1}), I1({5})}), I1({0, 5}));
}

TEST(HostOps, ScatterNDGatherND) {
  const HostTensor x = I({2, 2}, {1, 2, 3, 4});
  EXPECT_EQ(run1(N("ScatterND", 13), {x, I({1, 1}, {1}), I({1, 2}, {7, 8})}), I({2, 2}, {1, 2, 7, 8}));
  EXPECT_EQ(run1(N("ScatterND", 16, {{"reduction", std::string("add")}}), {x, I({2, 2}, {0, 0, 0, 0}), I1({10, 20})}),
            I({2, 2}, {31, 2, 3, 4}));
  EXPECT_EQ(run1(N("ScatterND", 13), {x, I({1, 2}, {-1, 0}), I1({9})}), I({2, 2}, {1, 2, 9, 4}));
  expect_throw<EvalError>(N("ScatterND", 13), {x, I({1, 1}, {0}), I1({1})}, "updates shape");
  EXPECT_EQ(run1(N("GatherND", 13), {x, I({2, 2}, {0, 0, 1, 1})}), I1({1, 4}));
  EXPECT_EQ(run1(N("GatherND", 13), {x, I({2, 1}, {1, 0})}), I({2, 2}, {3, 4, 1, 2}));
  // batch_dims=1: each batch row indexes its own data row
  EXPECT_EQ(run1(N("GatherND", 13, {{"batch_dims", int64_t{1}}}), {x, I({2, 1}, {1, 0})}), I1({2, 3}));
  const HostTensor y = I({2, 2, 2}, {0, 1, 2, 3, 4, 5, 6, 7});
  EXPECT_EQ(run1(N("GatherND", 13, {{"batch_dims", int64_t{1}}}), {y, I({2, 1, 1}, {1, 0})}), I({2, 1, 2}, {2, 3, 4, 5}));
  expect_throw<EvalError>(N("GatherND", 13), {x, I({1, 2}, {2, 0})}, "out of range");
}

TEST(HostOps, NonMaxSuppression) {
  // the ONNX operator example: three overlapping boxes up top, three lower down
  const HostTensor boxes = F({1, 6, 4}, {0, 0, 1, 1, 0, 0.1, 1, 1.1, 0, -0.1, 1, 0.9, 0, 10, 1, 11, 0, 10.1, 1, 11.1, 0, 100, 1, 101});
  const HostTensor scores = F({1, 1, 6}, {0.9, 0.75, 0.6, 0.95, 0.5, 0.3});
  const HostTensor mx = I1({3}), iou = F({1}, {0.5}), thr = F({1}, {0.0});
  EXPECT_EQ(run1(N("NonMaxSuppression", 11), {boxes, scores, mx, iou, thr}), I({3, 3}, {0, 0, 3, 0, 0, 0, 0, 0, 5}));
  EXPECT_EQ(run1(N("NonMaxSuppression", 11), {boxes, scores, I1({2}), iou, std::nullopt}), I({2, 3}, {0, 0, 3, 0, 0, 0}));
  EXPECT_EQ(run1(N("NonMaxSuppression", 11), {boxes, scores, mx, iou, F({1}, {0.4})}), I({2, 3}, {0, 0, 3, 0, 0, 0}));
  EXPECT_EQ(run1(N("NonMaxSuppression", 11), {boxes, scores}), I({0, 3}, {}));  // max_output defaults to 0
  // center_point_box=1: [x_center, y_center, width, height]
  const HostTensor cboxes = F({1, 6, 4}, {0.5, 0.5, 1, 1, 0.5, 0.6, 1, 1, 0.5, 0.4, 1, 1, 0.5, 10.5, 1, 1, 0.5, 10.6, 1, 1, 0.5, 100.5, 1, 1});
  EXPECT_EQ(run1(N("NonMaxSuppression", 11, {{"center_point_box", int64_t{1}}}), {cboxes, scores, mx, iou, thr}),
            I({3, 3}, {0, 0, 3, 0, 0, 0, 0, 0, 5}));
  // two classes, flipped corners
  const HostTensor two = F({1, 2, 4}, {1, 1, 0, 0, 0, 0, 1, 1});
  EXPECT_EQ(run1(N("NonMaxSuppression", 11), {two, F({1, 2, 2}, {0.1, 0.2, 0.3, 0.2}), I1({5}), F({1}, {0.5})}),
            I({2, 3}, {0, 0, 1, 0, 1, 0}));
}

TEST(HostOps, SoftmaxFamily) {
  const HostTensor x = F({2, 2}, {0, 0, 1, 3});
  expect_near(run1(N("Softmax", 13), {x}), {0.5, 0.5, 1 / (1 + std::exp(2.0)), 1 / (1 + std::exp(-2.0))});
  // opset < 13 coerces to 2-D at axis: axis 0 normalises over all elements
  const double z = 2 + std::exp(1.0) + std::exp(3.0);
  expect_near(run1(N("Softmax", 11, {{"axis", int64_t{0}}}), {x}), {1 / z, 1 / z, std::exp(1.0) / z, std::exp(3.0) / z});
  expect_near(run1(N("Softmax", 13, {{"axis", int64_t{0}}}), {x}), {1 / (1 + std::exp(1.0)), 1 / (1 + std::exp(3.0)),
                                                                   1 / (1 + std::exp(-1.0)), 1 / (1 + std::exp(-3.0))});
  expect_near(run1(N("LogSoftmax", 13), {F({2}, {1000, 1000})}), {-std::log(2.0), -std::log(2.0)});
  EXPECT_EQ(run1(N("Hardmax", 13), {F({2, 3}, {1, 3, 3, 0, -1, -2})}), F({2, 3}, {0, 1, 0, 1, 0, 0}));
  EXPECT_EQ(run1(N("Hardmax", 11, {{"axis", int64_t{0}}}), {F({2, 2}, {1, 3, 3, 0})}), F({2, 2}, {0, 1, 0, 0}));
}

TEST(HostOps, MatMulGemm) {
  const HostTensor a = F({2, 3}, {1, 2, 3, 4, 5, 6}), b = F({3, 2}, {1, 0, 0, 1, 1, 1});
  EXPECT_EQ(run1(N("MatMul", 13), {a, b}), F({2, 2}, {4, 5, 10, 11}));
  EXPECT_EQ(run1(N("MatMul", 13), {a, F({3}, {1, 1, 1})}), F({2}, {6, 15}));
  EXPECT_EQ(run1(N("MatMul", 13), {F({2}, {1, 1}), a}), F({3}, {5, 7, 9}));
  EXPECT_EQ(run1(N("MatMul", 13), {F({3}, {1, 2, 3}), F({3}, {1, 1, 1})}), F({}, {6}));
  // batch broadcast: [2,1,2] x [2,1] -> [2,1,1]
  EXPECT_EQ(run1(N("MatMul", 13), {F({2, 1, 2}, {1, 2, 3, 4}), F({2, 1}, {1, 10})}), F({2, 1, 1}, {21, 43}));
  EXPECT_EQ(run1(N("MatMul", 13), {I({1, 2}, {kBig, 1}), I({2, 1}, {1, 1})}), I({1, 1}, {kBig + 1}));
  expect_throw<EvalError>(N("MatMul", 13), {a, a}, "inner dimensions");
  EXPECT_EQ(run1(N("Gemm", 13, {{"transA", int64_t{1}}, {"alpha", 2.0}, {"beta", 0.5}}), {F({3, 2}, {1, 4, 2, 5, 3, 6}), b, F({2}, {2, 4})}),
            F({2, 2}, {9, 12, 21, 24}));
  EXPECT_EQ(run1(N("Gemm", 13, {{"transB", int64_t{1}}}), {a, F({2, 3}, {1, 0, 1, 0, 1, 1}), std::nullopt}), F({2, 2}, {4, 5, 10, 11}));
  EXPECT_EQ(run1(N("Gemm", 13), {I({1, 1}, {kBig}), I({1, 1}, {1}), I({1}, {1})}), I({1, 1}, {kBig + 1}));
}

// A typical folded shape computation: Shape -> Gather -> Unsqueeze -> Concat -> Reshape.
TEST(HostOps, ShapeChainFolds) {
  const HostTensor x(ElemType::f32, {2, 3, 4});
  const HostTensor shape = run1(N("Shape", 13), {x});
  const HostTensor batch = run1(N("Gather", 13), {shape, S(0)});
  const HostTensor b1 = run1(N("Unsqueeze", 13), {batch, I1({0})});
  const HostTensor target = run1(N("Concat", 13, {{"axis", int64_t{0}}}), {b1, I1({-1})});
  EXPECT_EQ(target, I1({2, -1}));
  EXPECT_EQ(run1(N("Reshape", 13), {x, target}).shape, (Shape{2, 12}));
}

// ---- quantization and normalization ------------------------------------------------

TEST(HostOps, QuantizeDequantize) {
  // x / scale rounds half to even, then adds the zero point and saturates
  EXPECT_EQ(run1(N("QuantizeLinear", 13), {F({5}, {0, 1, 3, -3, 1000}), F({}, {2}), I({}, {128}, ElemType::u8)}),
            I({5}, {128, 128, 130, 126, 255}, ElemType::u8));
  EXPECT_EQ(run1(N("QuantizeLinear", 13), {F({2}, {-1000, 5}), F({}, {1})}), I({2}, {0, 5}, ElemType::u8));
  EXPECT_EQ(run1(N("QuantizeLinear", 13, {{"axis", int64_t{0}}}), {F({2, 2}, {2, 2, 2, 2}), F({2}, {1, 2}), I({2}, {0, -1}, ElemType::i8)}),
            I({2, 2}, {2, 2, 0, 0}, ElemType::i8));
  expect_near(run1(N("DequantizeLinear", 13), {I({3}, {0, 128, 255}, ElemType::u8), F({}, {0.5}), I({}, {128}, ElemType::u8)}), {-64, 0, 63.5});
  expect_near(run1(N("DequantizeLinear", 13, {{"axis", int64_t{1}}}), {I({1, 2}, {4, 4}, ElemType::i8), F({2}, {1, 0.25})}), {4, 1});
  auto d = run(N("DynamicQuantizeLinear", 11, {}, 3), {F({3}, {0, 2, -0.55})});
  expect_near(d[1], {(2 + 0.55) / 255.0});
  EXPECT_EQ(d[2], I({}, {55}, ElemType::u8));  // round(0.55 / 0.01) = 55
  EXPECT_EQ(d[0], I({3}, {55, 255, 0}, ElemType::u8));
  EXPECT_EQ(run1(N("MatMulInteger", 10), {I({1, 2}, {130, 128}, ElemType::u8), I({2, 1}, {1, 2}, ElemType::i8), I({}, {128}, ElemType::u8)}),
            I({1, 1}, {2}, ElemType::i32));
}

TEST(HostOps, Normalizations) {
  const HostTensor x = F({1, 2, 2}, {1, 3, 10, 10});
  expect_near(run1(N("BatchNormalization", 15), {x, F({2}, {1, 2}), F({2}, {0, 1}), F({2}, {2, 10}), F({2}, {1, 4})}),
              {-1 / std::sqrt(1 + 1e-5), 1 / std::sqrt(1 + 1e-5), 1, 1});
  expect_throw<Unsupported>(N("BatchNormalization", 15, {{"training_mode", int64_t{1}}}),
                            {x, F({2}, {1, 2}), F({2}, {0, 1}), F({2}, {2, 10}), F({2}, {1, 4})}, "training");
  const double inv = 1 / std::sqrt(1 + 1e-5);  // variance 1 plus the default epsilon
  expect_near(run1(N("InstanceNormalization", 6), {x, F({2}, {1, 1}), F({2}, {0, 5})}), {-inv, inv, 5, 5});
  auto ln = run(N("LayerNormalization", 17, {}, 3), {x, F({2}, {1, 2}), F({}, {1})});
  expect_near(ln[0], {1 - inv, 1 + 2 * inv, 1, 1});
  EXPECT_EQ(ln[1].shape, (Shape{1, 2, 1}));
  expect_near(ln[1], {2, 10});
  expect_near(run1(N("MeanVarianceNormalization", 13, {{"axes", std::vector<int64_t>{2}}}), {x}), {-1, 1, 0, 0}, 1e-6);
  expect_near(run1(N("GlobalAveragePool", 1), {x}), {2, 10});
  expect_near(run1(N("GlobalMaxPool", 1), {x}), {3, 10});
  EXPECT_EQ(run1(N("GlobalMaxPool", 1), {x}).shape, (Shape{1, 2, 1}));
  EXPECT_EQ(run1(N("ReverseSequence", 10, {{"batch_axis", int64_t{0}}, {"time_axis", int64_t{1}}}), {I({2, 3}, {1, 2, 3, 4, 5, 6}), I1({2, 3})}),
            I({2, 3}, {2, 1, 3, 6, 5, 4}));
}

TEST(HostOps, ConvAndPools2d) {
  // 1x1x3x3 input, one 2x2 filter, pad 1 on top/left only, stride 2: hand-computed
  const auto x = F({1, 1, 3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9});
  const auto w = F({1, 1, 2, 2}, {1, 0, 0, -1});
  // output 2x2: windows at rows {-1,0},{1,2} x cols {-1,0},{1,2}
  // (0,0): x[-1,-1]*1 + x[0,0]*-1 = -1; (0,1): x[-1,1]*1 + x[0,2]*-1 = -3
  // (1,0): x[1,-1]*1 + x[2,0]*-1 = -7; (1,1): x[1,1]*1 + x[2,2]*-1 = 5 - 9 = -4
  expect_near(run1(N("Conv", 13, {{"pads", Shape{1, 1, 0, 0}}, {"strides", Shape{2, 2}}}), {x, w, F({1}, {0.5})}),
              {-0.5, -2.5, -6.5, -3.5});
  // two groups: each output channel sees its own input channel
  const auto x2 = F({1, 2, 1, 2}, {1, 2, 10, 20});
  const auto w2 = F({2, 1, 1, 1}, {2, 3});
  expect_near(run1(N("Conv", 13, {{"group", int64_t{2}}}), {x2, w2, std::nullopt}), {2, 4, 30, 60});
  expect_near(run1(N("MaxPool", 13, {{"kernel_shape", Shape{2, 2}}}), {x}), {5, 6, 8, 9});
  expect_near(run1(N("AveragePool", 13, {{"kernel_shape", Shape{2, 2}}, {"strides", Shape{1, 1}}}), {x}), {3, 4, 6, 7});
  // padding: excluded from the average by default, counted with count_include_pad
  const Attrs pad{{"kernel_shape", Shape{2, 2}}, {"pads", Shape{1, 1, 0, 0}}, {"strides", Shape{2, 2}}};
  expect_near(run1(N("AveragePool", 13, pad), {x}), {1, 2.5, 5.5, 7});
  Attrs inc = pad;
  inc["count_include_pad"] = int64_t{1};
  expect_near(run1(N("AveragePool", 13, inc), {x}), {0.25, 1.25, 2.75, 7});
  expect_throw<EvalError>(N("Conv", 13), {x, F({1, 2, 2, 2}, std::vector<double>(8, 1)), std::nullopt}, "channels");
  expect_throw<Unsupported>(N("Conv", 13), {F({1, 1, 4}, {1, 2, 3, 4}), F({1, 1, 2}, {1, 1}), std::nullopt}, "rank");
}
