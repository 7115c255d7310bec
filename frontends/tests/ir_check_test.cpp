// Tests of the IR declared-shape check: wrong declarations are refused with a
// message naming the node, right ones (including seedchip's fused ops) pass.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include <fmt/format.h>

#include "seedchip/frontends/ir_check.h"
#include "seedchip/ir/graph.h"

namespace seedchip::frontends {
namespace {

using ::testing::HasSubstr;

/// The message check_declared_shapes gives for `body` (inside a graph), or "" when it passes.
std::string check(const std::string& body) {
  const ir::Graph g = ir::parse(fmt::format("graph \"g\" {{\n{}\n}}\n", body), "t.ir");
  try {
    check_declared_shapes(g, "t.ir");
  } catch (const ir::IrError& e) {
    return e.what();
  }
  return "";
}

TEST(IrCheck, AcceptsRightDeclarations) {
  EXPECT_EQ(check(R"(  input %x : f32[4,2]
  const %b : f32[2] = [1, 2]
  %y : f32[4,2] = Add(%x, %b) name="add" opset=13
  %w : f32[2,4] = Transpose(%y) {perm=ints[1,0]} name="t" opset=13
  output %w)"), "");
}

TEST(IrCheck, DataMovementKeepsTheElementTypeAtAnyOpset) {
  // the fuzzer's finding: Reshape at opset 3 (whose schema takes no shape
  // input) declared f32 from f16 reached the simulator as a converting DMA
  const auto m = check(R"(  input %x : f16[2,3,4]
  const %s : i64[2] = [2, 12]
  %y : f32[2,12] = Reshape(%x, %s) name="reshape" opset=3
  output %y)");
  EXPECT_THAT(m, HasSubstr("t.ir: node 'reshape' (Reshape): result 'y' is declared f32 but the op keeps its input's type f16"));
  EXPECT_EQ(check(R"(  input %x : f16[2,3,4]
  const %s : i64[2] = [2, 12]
  %y : f16[2,12] = Reshape(%x, %s) name="reshape" opset=14
  output %y)"), "");
}

TEST(IrCheck, OperandCountsFollowTheOpSchema) {
  // the fuzzer's finding: Add() without inputs reached the elementwise
  // kernel, which indexes its operands by position
  EXPECT_THAT(check(R"(  input %x : f32[4,2]
  %y : f32[4,2] = Add() name="add" opset=13
  output %y)"),
              HasSubstr("t.ir: node 'add' (Add): takes 2 inputs, got 0"));
  EXPECT_THAT(check(R"(  input %x : f32[4,2]
  %y : f32[4,2] = Relu(%x, %x) name="r" opset=14
  output %y)"),
              HasSubstr("node 'r' (Relu): takes 1 input, got 2"));
  EXPECT_THAT(check(R"(  input %x : f32[4,2]
  %y : f32[4,2] = Clip(%x, _, _, %x) name="c" opset=13
  output %y)"),
              HasSubstr("node 'c' (Clip): takes 1 to 3 inputs, got 4"));
  EXPECT_THAT(check(R"(  input %x : f32[4,2]
  %y : f32[4,2] = Concat() {axis=0} name="cat" opset=13
  output %y)"),
              HasSubstr("node 'cat' (Concat): takes at least 1 input, got 0"));
  EXPECT_THAT(check(R"(  input %x : f32[4,2]
  %y : f32[4,2], %z : f32[4,2] = Relu(%x) name="r2" opset=14
  output %y)"),
              HasSubstr("node 'r2' (Relu): takes 1 output, got 2"));
  EXPECT_EQ(check(R"(  input %x : f32[4,2]
  %y : f32[4,2] = Clip(%x) name="c" opset=13
  output %y)"), "");
}

TEST(IrCheck, ConstantNeedsExactlyOneValue) {
  // the fuzzer's finding: a misspelt attribute left Constant without a value,
  // which failed only when the host evaluated it, in a message naming no file
  EXPECT_THAT(check(R"(  %a : i64[1] = Constant() {va0ue=tensor<i64[1]>[0]} name="axes" opset=13
  output %a)"),
              HasSubstr("t.ir: node 'axes' (Constant): needs exactly one value attribute (value, value_float, "
                        "value_floats, value_int, value_ints, ...), has 0"));
  EXPECT_THAT(check(R"(  %a : i64[] = Constant() {value_int=3, value_float=1.5} name="two" opset=13
  output %a)"),
              HasSubstr("has 2"));
  EXPECT_EQ(check(R"(  %a : i64[] = Constant() {value_int=3} name="one" opset=13
  output %a)"), "");
}

TEST(IrCheck, DefaultDomainNodesNeedAnOpset) {
  // the fuzzer's finding: without opset=, the compiler reduced over the axes
  // attribute (as before opset 18) and the host evaluator over all axes
  EXPECT_THAT(check(R"(  input %x : f32[2,4]
  %m : f32[2,1] = ReduceMean(%x) {axes=ints[-1]} name="rm"
  output %m)"),
              HasSubstr("t.ir: node 'rm' (ReduceMean): no opset given (write opset=N: an ONNX op's meaning depends on its opset)"));
}

TEST(IrCheck, RefusesAWrongBroadcastResult) {
  // the fuzzer's finding: this Add was fused into a FusedMatMul and compiled
  const auto m = check(R"(  input %x : f32[4,2]
  const %b : f32[2] = [1, 2]
  %y : f32[4,22] = Add(%b, %x) name="add" opset=13
  output %y)");
  EXPECT_THAT(m, HasSubstr("t.ir: node 'add' (Add): output 'y' is declared f32[4,22] but its inputs give f32[4,2]"));
}

TEST(IrCheck, RefusesAWrongElementType) {
  EXPECT_THAT(check(R"(  input %x : f32[3]
  %y : i32[3] = Relu(%x) name="r" opset=14
  output %y)"), HasSubstr("output 'y' is declared i32[3] but its inputs give f32[3]"));
  EXPECT_THAT(check(R"(  input %x : f32[3]
  input %z : i32[3]
  %y : f32[3] = Add(%x, %z) name="a" opset=14
  output %y)"), HasSubstr("node 'a' (Add): onnx shape inference:"));
}

TEST(IrCheck, RefusesMatMulWithDisagreeingInnerDimensions) {
  EXPECT_THAT(check(R"(  input %a : f32[4,6]
  input %b : f32[5,3]
  %y : f32[4,3] = MatMul(%a, %b) name="mm" opset=13
  output %y)"), HasSubstr("node 'mm' (MatMul): onnx shape inference: Incompatible dimensions for matrix multiplication"));
}

TEST(IrCheck, ChecksReshapeAgainstItsConstantAndComputedTargets) {
  EXPECT_THAT(check(R"(  input %x : f32[4,6]
  const %s : i64[2] = [3, 9]
  %y : f32[3,9] = Reshape(%x, %s) name="r" opset=13
  output %y)"), HasSubstr("node 'r' (Reshape): reshapes 24 elements into f32[3,9]"));
  // the target comes from Shape: known before running, so checked too
  EXPECT_THAT(check(R"(  input %x : f32[4,6]
  %s : i64[2] = Shape(%x) name="sh" opset=13
  %y : f32[6,4] = Reshape(%x, %s) name="r" opset=13
  output %y)"), HasSubstr("output 'y' is declared f32[6,4] but its inputs give f32[4,6]"));
  // Shape -> Slice -> Concat: an empty slice is data too
  EXPECT_EQ(check(R"(  input %x : f32[3,4]
  %s : i64[2] = Shape(%x) name="sh" opset=17
  const %z : i64[1] = [0]
  %p : i64[0] = Slice(%s, %z, %z) name="sl" opset=17
  const %t : i64[2] = [2, 6]
  %c : i64[2] = Concat(%p, %t) {axis=0} name="cat" opset=17
  %y : f32[2,6] = Reshape(%x, %c) name="r" opset=17
  output %y)"), "");
}

TEST(IrCheck, ChecksSeedchipOps) {
  EXPECT_EQ(check(R"(  input %a : f32[5,8]
  const %w : f32[8,3] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
  const %b : f32[3] = [1, 2, 3]
  %y : f32[5,3] = FusedMatMul(%a, %w, %b) {activation="Relu"} name="f" domain="seedchip" opset=1
  output %y)"), "");
  EXPECT_THAT(check(R"(  input %a : f32[5,8]
  const %w : f32[8,3] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
  const %b : f32[2] = [1, 2]
  %y : f32[5,3] = FusedMatMul(%a, %w, %b) name="f" domain="seedchip" opset=1
  output %y)"), HasSubstr("node 'f' (FusedMatMul): the bias has 2 elements, the output's last axis 3"));
  EXPECT_THAT(check(R"(  input %a : f32[5,8]
  const %w : f32[8,3] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
  const %b : f32[3] = [1, 2, 3]
  %y : f32[5,4] = FusedMatMul(%a, %w, %b) name="f" domain="seedchip" opset=1
  output %y)"), HasSubstr("output 'y' is declared f32[5,4] but its inputs give f32[5,3]"));
  EXPECT_EQ(check(R"(  input %x : f32[7,300]
  %y : f32[7,150] = SwiGLU(%x) name="s" domain="seedchip" opset=1
  output %y)"), "");
  EXPECT_THAT(check(R"(  input %x : f32[7,300]
  %y : f32[7,300] = SwiGLU(%x) name="s" domain="seedchip" opset=1
  output %y)"), HasSubstr("declared f32[7,300] but its inputs give ?[7,150]"));
  EXPECT_THAT(check(R"(  input %x : f32[7,301]
  %y : f32[7,150] = SwiGLU(%x) name="s" domain="seedchip" opset=1
  output %y)"), HasSubstr("even length"));
  EXPECT_THAT(check(R"(  input %a : bf16[5,16]
  input %b : u8[16,70]
  %y : f32[5,141] = MatMulInt4(%a, %b) name="w4" domain="seedchip" opset=1
  output %y)"), HasSubstr("declared f32[5,141] but its inputs give ?[5,140]"));
  EXPECT_THAT(check(R"(  input %q : f32[2,6,64]
  input %k : f32[2,64,6]
  input %v : f32[2,6,64]
  %o : f32[2,6,32] = FlashAttention(%q, %k, %v) name="attn" domain="seedchip" opset=1
  output %o)"), HasSubstr("node 'attn' (FlashAttention): output 'o' is declared f32[2,6,32]"));
}

TEST(IrCheck, LeavesWhatOnnx112CannotJudgeToTheCompiler) {
  // opset 18 moved ReduceMean's axes to an input: opset 17's rule would misread it
  EXPECT_EQ(check(R"(  input %x : f32[4,6]
  const %a : i64[1] = [1]
  %y : f32[4,1] = ReduceMean(%x, %a) name="m" opset=18
  output %y)"), "");
  // an op from another domain
  EXPECT_EQ(check(R"(  input %x : f32[4,6]
  %y : f32[4] = Foo(%x) name="f" domain="com.example" opset=1
  output %y)"), "");
}

}  // namespace
}  // namespace seedchip::frontends
