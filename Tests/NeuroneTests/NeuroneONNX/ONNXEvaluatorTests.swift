import Foundation
import XCTest
@testable import Neurone
@testable import NeuroneONNX
import NeuroneONNXProto

/// The evaluator import runs blocks with (ONNXEvaluator): each op against values worked out by
/// hand from the ONNX operator specs, and bad operands as errors naming the node.
final class ONNXEvaluatorTests: XCTestCase {
    typealias Folded = ChainReader.Folded

    func node(_ op: String, _ attributes: [Onnx_AttributeProto] = []) -> Onnx_NodeProto {
        var n = Onnx_NodeProto()
        n.opType = op
        n.name = "n"
        n.output = ["y"]
        n.attribute = attributes
        return n
    }

    func int(_ name: String, _ v: Int64) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        a.type = .int
        a.i = v
        return a
    }

    func ints(_ shape: [Int], _ values: [Double]) -> Folded { Folded(shape: shape, values: values, integer: true) }
    func floats(_ shape: [Int], _ values: [Double]) -> Folded { Folded(shape: shape, values: values, integer: false) }

    func run(_ op: String, _ inputs: [Folded?], _ attributes: [Onnx_AttributeProto] = [], opset: Int = 18) throws -> Folded {
        try ChainReader(graph: Onnx_GraphProto(), opset: opset, source: "e.onnx").evaluate(node(op, attributes), inputs)
    }

    func testOpsGiveTheSpecsValues() throws {
        XCTAssertEqual(try run("Range", [ints([], [1]), ints([], [10]), ints([], [3])]), ints([3], [1, 4, 7]))
        // a negative step from the end to before the start ("INT64_MIN" as the end)
        let ten = ints([10], (0..<10).map(Double.init))
        XCTAssertEqual(try run("Slice", [ten, ints([1], [-1]), ints([1], [-9.2e18]), ints([1], [0]), ints([1], [-3])]), ints([4], [9, 6, 3, 0]))
        XCTAssertEqual(try run("Slice", [ten, ints([1], [2]), ints([1], [9.2e18])]), ints([8], (2..<10).map(Double.init)))
        let m = floats([2, 3], [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(try run("Gather", [m, ints([2], [2, -3])], [int("axis", 1)]), floats([2, 2], [3, 1, 6, 4]))
        XCTAssertEqual(try run("Gather", [m, ints([], [1])]), floats([3], [4, 5, 6]))
        XCTAssertEqual(try run("Where", [ints([2, 1], [1, 0]), floats([2], [10, 20]), floats([], [-1])]), floats([2, 2], [10, 20, -1, -1]))
        let ones = floats([3, 3], Array(repeating: 1, count: 9))
        XCTAssertEqual(try run("Trilu", [ones, ints([], [1])]), floats([3, 3], [0, 1, 1, 0, 0, 1, 0, 0, 0]))
        XCTAssertEqual(try run("Trilu", [ones], [int("upper", 0)]), floats([3, 3], [1, 0, 0, 1, 1, 0, 1, 1, 1]))
        XCTAssertEqual(try run("Mod", [ints([2], [-7, 7]), ints([], [3])]), ints([2], [2, 1]))
        XCTAssertEqual(try run("Mod", [floats([2], [-7, 7]), floats([], [3])], [int("fmod", 1)]), floats([2], [-1, 1]))
        XCTAssertEqual(try run("Div", [ints([2], [-7, 7]), ints([], [2])]), ints([2], [-3, 3]))
        // matmul: batch dimensions broadcast, a vector operand
        XCTAssertEqual(try run("MatMul", [floats([2, 1, 2], [1, 2, 3, 4]), floats([2, 1], [1, 1])]), floats([2, 1, 1], [3, 7]))
        XCTAssertEqual(try run("MatMul", [floats([2], [1, 2]), floats([2, 3], [1, 2, 3, 4, 5, 6])]), floats([3], [9, 12, 15]))
        XCTAssertEqual(try run("Gemm", [floats([1, 2], [1, 2]), floats([3, 2], [1, 4, 2, 5, 3, 6]), floats([3], [1, 1, 1])], [int("transB", 1)]),
                       floats([1, 3], [10, 13, 16]))
        // softmax: along the axis (opset 13 on), over everything from the axis before
        let two = log(2.0)
        let row = try run("Softmax", [floats([1, 2, 2], [0, two, 0, two])])
        XCTAssertEqual(row.values.map { ($0 * 3).rounded() }, [1, 2, 1, 2])
        let flat = try run("Softmax", [floats([1, 2, 2], [0, two, 0, two])], opset: 11)
        XCTAssertEqual(flat.values.map { ($0 * 6).rounded() }, [1, 2, 1, 2])
        XCTAssertEqual(try run("Concat", [floats([2, 1], [1, 2]), floats([2, 2], [3, 4, 5, 6])], [int("axis", 1)]), floats([2, 3], [1, 3, 4, 2, 5, 6]))
        XCTAssertEqual(try run("Expand", [floats([3], [1, 2, 3]), ints([2], [2, 1])]), floats([2, 3], [1, 2, 3, 1, 2, 3]))
        XCTAssertEqual(try run("Reshape", [m, ints([2], [0, -1])]), m)
        XCTAssertEqual(try run("Transpose", [m]), floats([3, 2], [1, 4, 2, 5, 3, 6]))
        XCTAssertEqual(try run("Shape", [m], [int("start", -1)]), ints([1], [3]))
        XCTAssertEqual(try run("Equal", [ints([3], [1, 2, 3]), ints([], [2])]), ints([3], [0, 1, 0]))
        XCTAssertEqual(try run("Unsqueeze", [m, ints([1], [-1])]).shape, [2, 3, 1])
        XCTAssertEqual(try run("Squeeze", [floats([1, 3, 1], [1, 2, 3])]).shape, [3])
    }

    /// A block is evaluated within a budget of multiply-adds over all its products: here 2·3·3 = 18
    /// for each of two chained MatMuls, against a budget of 30.
    func testABlocksProductsHaveABudget() throws {
        var graph = Onnx_GraphProto()
        var first = node("MatMul"), second = node("MatMul")
        first.input = ["x", "w"]
        first.output = ["h"]
        second.input = ["h", "w"]
        second.output = ["y"]
        graph.node = [first, second]
        var reader = ChainReader(graph: graph, opset: 18, source: "b.onnx")
        reader.constants["w"] = Tensor([Float](repeating: 0.5, count: 9), shape: [3, 3])
        reader.valueProducers = ["h": 0, "y": 1]
        let x = floats([2, 3], [1, 2, 3, 4, 5, 6])
        var roomy = ChainReader.Evaluator(reader, nodes: graph.node, allowed: 0...1, batch: 2, inputs: ["x": x], budget: 36)
        XCTAssertEqual(try roomy.value("y"), floats([2, 3], [4.5, 4.5, 4.5, 11.25, 11.25, 11.25]))
        var tight = ChainReader.Evaluator(reader, nodes: graph.node, allowed: 0...1, batch: 2, inputs: ["x": x], budget: 30)
        XCTAssertThrowsError(try tight.value("y")) { XCTAssertTrue("\($0)".contains("takes more than 30 multiply-adds"), "\($0)") }
        // a value outside the block's nodes is not computed
        var outside = ChainReader.Evaluator(reader, nodes: graph.node, allowed: 1...1, batch: 2, inputs: ["x": x])
        XCTAssertThrowsError(try outside.value("y")) { XCTAssertTrue("\($0)".contains("'h' is computed outside the block"), "\($0)") }
    }

    func testBadOperandsAreNamedErrors() {
        func message(_ op: String, _ inputs: [Folded?]) -> String {
            do { _ = try run(op, inputs); return "no error" } catch { return "\(error)" }
        }
        let m = floats([2, 3], [1, 2, 3, 4, 5, 6])
        XCTAssertTrue(message("Range", [ints([], [0]), ints([], [1]), ints([], [0])]).contains("zero"))
        XCTAssertTrue(message("Range", [floats([], [0]), floats([], [1e30]), floats([], [1])]).contains("it would count"))
        XCTAssertTrue(message("Reshape", [m, ints([3], [0x1p40, 0x1p40, -1])]).contains("it reshapes [2, 3]"))
        XCTAssertTrue(message("Expand", [m, ints([3], [0x1p30, 2, 3])]).contains("it would compute a value of shape"))
        XCTAssertTrue(message("MatMul", [m, m]).contains("it multiplies [2, 3] by [2, 3]"))
        XCTAssertTrue(message("MatMul", [floats([1 << 13, 1, 1], Array(repeating: 1, count: 1 << 13)), floats([1, 1, 1 << 12], Array(repeating: 1, count: 1 << 12))])
            .contains("through a value of shape"))
        XCTAssertTrue(message("MatMul", [floats([1 << 12, 1 << 12], []), floats([1 << 12, 1 << 12], [])]).contains("multiply-adds for import to evaluate"))
        XCTAssertTrue(message("Gather", [m, ints([1], [2])]).contains("its index 2 is outside the 2 along axis 0"))
        XCTAssertTrue(message("Div", [ints([1], [1]), ints([1], [0])]).contains("divides by zero"))
        XCTAssertTrue(message("Where", [ints([2], [1, 0]), m, m]).contains("do not broadcast"))
        XCTAssertTrue(message("Hardmax", [m]).contains("node 'n' (Hardmax): import does not evaluate Hardmax nodes"))
        XCTAssertTrue(message("Add", [m]).contains("its input 1 is missing"))
    }
}
