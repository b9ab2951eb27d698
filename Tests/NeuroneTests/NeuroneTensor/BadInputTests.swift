#if os(Linux)
import Glibc
#else
import Darwin
#endif
import XCTest
@testable import Neurone
@testable import NeuroneDevice
@testable import NeuroneCPU
@testable import NeuroneTensor
@testable import NeuroneNN
@testable import NeuroneOptim
@testable import NeuroneIO
@testable import NeuroneData
@testable import NeuronePlots
@testable import NeuroneTraining
@testable import NeuroneExplain

/// Programming errors stop the program with a message naming the op, the shapes and what was
/// expected. Each case runs in a forked child process whose stderr and exit are checked.
final class BadInputTests: XCTestCase {
    func expectTrap(_ expected: [String], file: StaticString = #filePath, line: UInt = #line, _ body: () -> Void) {
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&fds), 0)
        fflush(stdout)
        fflush(stderr)
        let pid = fork()
        if pid == 0 {
            close(fds[0])
            dup2(fds[1], 2)
            body()
            _exit(0)
        }
        close(fds[1])
        var output = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = read(fds[0], &buffer, buffer.count)
            if n <= 0 { break }
            output.append(contentsOf: buffer[0..<n])
        }
        close(fds[0])
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        let text = String(decoding: output, as: UTF8.self)
        let exitedNormally = (status & 0x7f) == 0 && ((status >> 8) & 0xff) == 0
        XCTAssertFalse(exitedNormally, "expected a trap, but the code ran to completion", file: file, line: line)
        for s in expected {
            XCTAssertTrue(text.contains(s), "message should contain \"\(s)\"; got:\n\(text.prefix(600))", file: file, line: line)
        }
    }

    func testShapeMismatchesNameTheOpAndShapes() {
        expectTrap(["add", "[2, 3]", "[4]", "cannot be broadcast"]) { _ = Tensor.ones([2, 3]) + Tensor.ones([4]) }
        expectTrap(["matmul", "[2, 3]", "[4, 5]", "2x3 and 4x5"]) { _ = Tensor.ones([2, 3]).matmul(Tensor.ones([4, 5])) }
        expectTrap(["matmul", "sizes 3 and 4"]) { _ = Tensor.ones([3]).matmul(Tensor.ones([4])) }
        expectTrap(["cat", "expected size 3 but got size 2", "tensor 1"]) { _ = Tensor.cat([Tensor.ones([2, 3]), Tensor.ones([2, 2])], dim: 0) }
        expectTrap(["stack", "[2]", "[3]"]) { _ = Tensor.stack([Tensor.ones([2]), Tensor.ones([3])]) }
        expectTrap(["reshape", "[4, 4]", "size 6"]) { _ = Tensor.ones([2, 3]).reshape([4, 4]) }
        expectTrap(["expand", "(3)", "(2)"]) { _ = Tensor.ones([2]).expand([3]) }
        expectTrap(["Tensor(_:shape:)", "[2, 2]", "3 values"]) { _ = Tensor([1.0, 2.0, 3.0], shape: [2, 2]) }
        expectTrap(["where", "cannot be broadcast"]) { _ = Tensor.where(Tensor([true, false]), Tensor.ones([3]), Tensor.ones([3])) }
    }

    func testDimsAndIndicesOutOfRange() {
        expectTrap(["sum", "dimension out of range", "got 3"]) { _ = Tensor.ones([2, 3]).sum(dim: 3) }
        expectTrap(["select", "index 5 is out of bounds", "size 3"]) { _ = Tensor.ones([2, 3]).select(dim: 1, index: 5) }
        expectTrap(["gather", "index 7 is out of bounds", "size 3"]) { _ = Tensor.ones([2, 3]).gather(dim: 1, index: Tensor([7, 0], shape: [2, 1])) }
        expectTrap(["indexSelect", "index -1 is out of bounds"]) { _ = Tensor.ones([4]).indexSelect(dim: 0, index: Tensor([-1])) }
        expectTrap(["permute", "expected 2 dims"]) { _ = Tensor.ones([2, 3]).permute(0, 1, 2) }
        expectTrap(["index", "too many indices"]) { _ = Tensor.ones([2])[0, 0] }
    }

    func testUnsupportedDTypes() {
        expectTrap(["matmul", "int64", "float32 or float64"]) { _ = Tensor([1, 2]).matmul(Tensor([1, 2])) }
        expectTrap(["matmul", "same dtype", "float32", "float64"]) { _ = Tensor([1.0]).matmul(Tensor([1.0], dtype: .float64)) }
        expectTrap(["requiresGrad", "floating-point", "int64"]) { Tensor([1, 2]).requiresGrad = true }
        expectTrap(["where", "condition must be a bool tensor"]) { _ = Tensor.where(Tensor([1]), Tensor([1.0]), Tensor([2.0])) }
        expectTrap(["sub", "bool"]) { _ = Tensor([true]) - Tensor([false]) }
    }

    func testBackwardMisuse() {
        expectTrap(["backward", "scalar outputs", "[3]"]) {
            let x = Tensor([1.0, 2.0, 3.0]).requiringGrad()
            (x * 2.0).backward()
        }
        expectTrap(["backward", "second time", "retainGraph"]) {
            let x = Tensor([1.0]).requiringGrad()
            let y = (x * x).sum()
            y.backward()
            y.backward()
        }
        expectTrap(["backward", "does not require grad"]) { Tensor([1.0]).sum().backward() }
        expectTrap(["backward", "gradient has shape [2]", "[3]"]) {
            let x = Tensor([1.0, 2.0, 3.0]).requiringGrad()
            (x * 2.0).backward(Tensor([1.0, 1.0]))
        }
    }
}

final class ForkTests: XCTestCase {
    /// Parallel kernels still work in a forked child (the pool forgets the parent's threads).
    func testParallelKernelsWorkAfterFork() {
        let x = Tensor.ones([1 << 20])
        XCTAssertEqual(x.sum().item(), Double(1 << 20))  // starts the pool in the parent
        let pid = fork()
        if pid == 0 {
            let ok = (x * 2.0).sum().item() == Double(1 << 21)
            _exit(ok ? 0 : 1)
        }
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        XCTAssertEqual(status, 0, "the child could not run a parallel kernel")
    }
}
