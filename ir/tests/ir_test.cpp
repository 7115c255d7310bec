// Tests for the graph IR: host tensors, printing and parsing.
#include <gtest/gtest.h>

#include <cmath>

#include "seedchip/ir/graph.h"

using namespace seedchip::ir;

TEST(HostTensor, ConvertsOnStore) {
  HostTensor t(ElemType::f16, {3});
  t.set(0, 65520.0);  // overflows half
  t.set(1, 1.0 + 1.0 / 2048);  // ties to even -> 1.0
  t.set(2, -2.5);
  EXPECT_TRUE(std::isinf(t.get(0)));
  EXPECT_EQ(t.get(1), 1.0);
  EXPECT_EQ(t.get(2), -2.5);
  HostTensor i(ElemType::i64, {1});
  i.set_int(0, (int64_t{1} << 62) + 1);
  EXPECT_EQ(i.get_int(0), (int64_t{1} << 62) + 1);
  HostTensor b(ElemType::boolean, {2});
  b.set(0, 3.0);
  EXPECT_EQ(b.get_int(0), 1);
  EXPECT_EQ(b.get_int(1), 0);
}

TEST(Text, PrintParsePrintIsStable) {
  const std::string text = R"(graph "g" {
  input %x : f32[2,3]
  input %"odd name" : i64[2]
  const %w : f32[3,2] = [1.0,2.5,-3.0,nan,inf,0.0]
  const %s : i64[] = [7]
  %y : f32[2,2] = MatMul(%x, %w) name="mm" opset=17
  %z : f32[2,2], %m : bool[2,2] = Dropout(%y, _, _) {ratio=0.5, seed=3, axes=ints[0,1], mode="a\"b", f=floats[], t=tensor<i32[2]>[4,5]} name="d" domain="ai.onnx" opset=13
  output %z
  output %m
}
)";
  Graph g = parse(text, "t.ir");
  EXPECT_EQ(g.nodes.size(), 2u);
  EXPECT_EQ(g.values[g.find_value("odd name")].type, ElemType::i64);
  EXPECT_EQ(g.nodes[1].attr_int("seed", 0), 3);
  EXPECT_EQ(g.nodes[1].attr_float("ratio", 0), 0.5);
  EXPECT_EQ(g.nodes[1].attr_str("mode", ""), "a\"b");
  EXPECT_EQ(g.nodes[1].attr_ints("axes", {}), (std::vector<int64_t>{0, 1}));
  std::string once = print(g, true);
  EXPECT_EQ(print(parse(once, "again"), true), once);
}

TEST(Text, ErrorsNameTheLine) {
  auto err = [](const std::string& t) {
    try {
      parse(t, "e.ir");
    } catch (const IrError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(err("graph \"g\" {\n  %y : f32[1] = Relu(%x) name=\"r\" opset=1\n}\n"), "e.ir:2: value '%x' is not defined");
  EXPECT_EQ(err("graph \"g\" {\n  input %x : q32[1]\n}\n"), "e.ir:2: unknown element type 'q32'");
  EXPECT_EQ(err("graph \"g\" {\n  const %c : f32[2] = [1.0]\n}\n"), "e.ir:2: constant has 1 elements, its shape needs 2");
  EXPECT_EQ(err("graph \"g\" {\n  input %x : f32[1]\n  input %x : f32[1]\n}"), "e.ir:3: value '%x' defined twice");
  // the fuzzer's finding: a stray '}' ended the graph and the rest was ignored
  EXPECT_EQ(err("graph \"g\" {\n  input %x : f32[1]\n}\n  output %x\n}\n"),
            "e.ir:4: unexpected text after the graph's closing '}'");
  EXPECT_EQ(err("graph \"g\" {\n  input %x : f32[1]\n  output %x\n}\n; a comment\n\n"), "no error");
}

TEST(GraphTest, CompactAndVerify) {
  Graph g = parse(R"(graph "g" {
  input %x : f32[2]
  const %unused : f32[1] = [1.0]
  %y : f32[2] = Relu(%x) name="r" opset=14
  output %y
})",
                  "c.ir");
  EXPECT_EQ(g.values.size(), 3u);
  g.compact();
  EXPECT_EQ(g.values.size(), 2u);
  g.verify();
  g.nodes[0].inputs[0] = g.nodes[0].outputs[0];
  EXPECT_THROW(g.verify(), IrError);
}
