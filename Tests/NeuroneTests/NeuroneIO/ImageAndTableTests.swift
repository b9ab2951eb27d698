import Foundation
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

/// PNG/PGM images, compressed files, USPS and CSV tables, against files written by Pillow, gzip
/// and bz2 (scripts/make_image_reference.py) and hand-built bad input.
final class ImageAndTableTests: XCTestCase {
    func reference(_ name: String) throws -> String {
        try XCTUnwrap(Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Reference/images")).path
    }

    func testPNGDecodesEveryColourTypeAsPillowDoes() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: reference("png_pixels.json")))
        let cases = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: [String: Any]])
        XCTAssertEqual(cases.count, 9)
        for (name, c) in cases {
            let image = try PNG.read(reference(name + ".png"))
            XCTAssertEqual(image.width, c["width"] as? Int, name)
            XCTAssertEqual(image.height, c["height"] as? Int, name)
            XCTAssertEqual(image.channels, c["channels"] as? Int, name)
            XCTAssertEqual(image.pixels, (c["pixels"] as? [Int])?.map { UInt8($0) }, name)
        }
    }

    func testPNGRoundTripCompressedAndStored() throws {
        let g = Generator(seed: 3)
        for channels in [1, 2, 3, 4] {
            let px = (0..<(13 * 6 * channels)).map { _ in UInt8(g.nextInt(below: 256)) }
            let image = Image(width: 13, height: 6, channels: channels, pixels: px)
            XCTAssertEqual(try PNG.decode(PNG.encode(image), source: "mem"), image)
        }
        // The fallback without zlib: stored deflate blocks, split at 65,535 bytes, inflate back.
        let big = (0..<150_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        XCTAssertEqual(try CompressedFile.inflate(CompressedFile.storedZlib(big), source: "mem"), big)
        XCTAssertEqual(try CompressedFile.inflate(CompressedFile.storedZlib([]), source: "mem"), [])
        XCTAssertEqual(PNG.crc32(Array("IEND".utf8)), 0xAE42_6082)
    }

    func testBadPNGsNameTheProblem() throws {
        let good = PNG.encode(Image(width: 2, height: 2, channels: 1, pixels: [0, 1, 2, 3]))
        func message(_ bytes: [UInt8]) -> String {
            do { _ = try PNG.decode(bytes, source: "x.png"); return "no error" } catch { return "\(error)" }
        }
        XCTAssertEqual(message(Array(good.prefix(5))), "x.png: not a PNG file (wrong signature)")
        XCTAssertEqual(message(Array(good.prefix(45))), "x.png: chunk IDAT runs past the end of the file (truncated)")
        XCTAssertEqual(message(Array(good.prefix(40))), "x.png: a chunk header is cut off at byte 33 (truncated file)")
        var corrupt = good; corrupt[20] ^= 0xff
        XCTAssertEqual(message(corrupt), "x.png: chunk IHDR has a wrong CRC (corrupted file)")
        XCTAssertEqual(message(Array(good.dropLast(12))), "x.png: no IEND chunk (truncated file)")
        let tmp = NSTemporaryDirectory() + "neurone-not-an-image.txt"
        try "hello".write(toFile: tmp, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try Image.read(tmp)) { XCTAssertEqual("\($0)", "\(tmp): not a PNG or PGM image") }
    }

    func testPGMAndImageTensors() throws {
        let ascii = Array("P2\n# comment\n3 2\n16\n0 8 16\n16 8 0\n".utf8)
        let image = try PGM.decode(ascii, source: "a.pgm")
        XCTAssertEqual(image.pixels, [0, 128, 255, 255, 128, 0])
        let binary = Array("P5 3 2 255\n".utf8) + [0, 128, 255, 255, 128, 0]
        XCTAssertEqual(try PGM.decode(binary, source: "b.pgm"), image)
        XCTAssertThrowsError(try PGM.decode(Array("P5 3 2 255\n".utf8) + [1, 2], source: "c.pgm")) {
            XCTAssertEqual("\($0)", "c.pgm: PGM data truncated (2 of 6 bytes for 3×2 pixels)")
        }
        XCTAssertEqual(image.tensor(channels: 1).shape, [1, 2, 3])
        XCTAssertEqual(image.tensor(channels: 1).toArray(as: Float.self), [0, 128, 255, 255, 128, 0].map { Float($0) / 255 })
        XCTAssertEqual(image.tensor(channels: 3).shape, [3, 2, 3])
        let rgb = Image(width: 1, height: 1, channels: 3, pixels: [255, 0, 0])
        XCTAssertEqual(rgb.tensor(channels: 1).item(), 0.299, accuracy: 1e-6)
        XCTAssertEqual(image.resized(width: 6, height: 4).pixels.prefix(6), [0, 0, 128, 128, 255, 255])
        // A grid of two 2×2 images, scale 2, padding 1: 11×6 pixels, grey between the cells.
        let grid = imageGrid(Tensor([0, 1, 1, 0, 0.5, 0.5, 0.5, 0.5], shape: [2, 1, 2, 2]), scale: 2)
        XCTAssertEqual([grid.width, grid.height, grid.channels], [11, 6, 1])
        XCTAssertEqual(Array(grid.pixels[(1 * 11)..<(2 * 11)]), [128, 0, 0, 255, 255, 128, 128, 128, 128, 128, 128])
    }

    func testUSPSBothTextFormsAndCompressions() throws {
        let a = try USPS.parse(CompressedFile.read(reference("zip.train.gz")), source: "zip.train.gz")
        let b = try USPS.parse(CompressedFile.read(reference("usps.bz2")), source: "usps.bz2")
        XCTAssertEqual(a.inputs.shape, [3, 1, 16, 16])
        XCTAssertEqual(a.labels.toArray(as: Int.self), [6, 0, 9])
        XCTAssertEqual(b.labels.toArray(as: Int.self), [6, 0, 9])
        XCTAssertEqual(a.inputs.toArray(as: Float.self), b.inputs.toArray(as: Float.self))
        XCTAssertGreaterThanOrEqual(a.inputs.min().item(), 0)
        XCTAssertLessThanOrEqual(a.inputs.max().item(), 1)
        let dir = NSTemporaryDirectory() + "neurone-usps-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.copyItem(atPath: reference("usps.bz2"), toPath: dir + "/usps.bz2")
        try FileManager.default.copyItem(atPath: reference("usps.bz2"), toPath: dir + "/usps.t.bz2")
        let splits = try DataSets.load("usps", dataDir: dir)
        XCTAssertEqual([splits.train.count, splits.test.count, splits.classCount], [3, 3, 10])
        XCTAssertThrowsError(try USPS.parse(Array("11 1:0.5\n".utf8), source: "u")) {
            XCTAssertEqual("\($0)", "u, line 1: label 11 is out of range (1…10)")
        }
        XCTAssertThrowsError(try USPS.parse(Array("3 0.1 0.2\n".utf8), source: "z")) {
            XCTAssertEqual("\($0)", "z, line 1: 2 pixel values; expected 256")
        }
        let truncated = try Data(contentsOf: URL(fileURLWithPath: reference("usps.bz2"))).prefix(1000)
        try truncated.write(to: URL(fileURLWithPath: dir + "/cut.bz2"))
        XCTAssertThrowsError(try CompressedFile.read(dir + "/cut.bz2")) {
            XCTAssertTrue("\($0)".hasPrefix("\(dir)/cut.bz2: cannot decompress: the compressed data ends early"), "\($0)")
        }
    }

    func testCSVTables() throws {
        let t = try CSVTable.load(reference("table.csv"))
        XCTAssertEqual(t.inputs.shape, [4, 2])
        XCTAssertEqual(t.inputs.toArray(as: Float.self), [5.1, 3.5, 7.0, 3.2, 6.3, 3.3, 4.9, 3.0])
        XCTAssertEqual(t.classNames, ["setosa", "versicolor", "virginica"])
        XCTAssertEqual(t.labels.toArray(as: Int.self), [0, 1, 2, 0])
        // The label column by name or index; integer labels from 0 stay as they are.
        let byName = try CSVTable.parse("y,a\n1,0.5\n0,1.5\n2,2.5\n", source: "s", labelColumn: "y")
        XCTAssertEqual(byName.labels.toArray(as: Int.self), [1, 0, 2])
        XCTAssertEqual(byName.inputs.toArray(as: Float.self), [0.5, 1.5, 2.5])
        let noHeader = try CSVTable.parse("0.5,7\r\n1.5,3\n\n", source: "s")
        XCTAssertEqual(noHeader.classNames, ["3", "7"])
        XCTAssertEqual(noHeader.labels.toArray(as: Int.self), [1, 0])
        func message(_ text: String, _ label: String? = nil) -> String {
            do { _ = try CSVTable.parse(text, source: "t.csv", labelColumn: label); return "no error" } catch { return "\(error)" }
        }
        XCTAssertEqual(message("a,b,y\n1,2,0\n3,x,1\n"), "t.csv: line 3, column 2 'b': 'x' is not a number")
        XCTAssertEqual(message("a,b,y\n1,2,0\n3,1\n"), "t.csv: line 3: 2 fields; expected 3 (as on line 1)")
        XCTAssertEqual(message("a,y\n1,\"0\n"), "t.csv: line 2: unterminated quoted field")
        XCTAssertEqual(message("a,y\n1,0\n", "z"), "t.csv: no label column 'z' (columns: a, y)")
        XCTAssertEqual(message(""), "t.csv: no rows (empty file)")
        let splits = try DataSets.load(reference("table.csv"))
        XCTAssertEqual(splits.train.count + splits.test.count, 4)
    }

    func testSyntheticSetsAreSeededAndWhatTheySay() throws {
        let a = try DataSets.load("stars", seed: 5), b = try DataSets.load("stars", seed: 5)
        XCTAssertEqual(a.train.inputs.toArray(as: Float.self), b.train.inputs.toArray(as: Float.self))
        let x = a.train.inputs.toArray(as: Float.self), y = a.train.labels.toArray(as: Int.self)
        for i in 0..<y.count { XCTAssertEqual(y[i], abs(x[2 * i]) < 0.5 && abs(x[2 * i + 1]) < 0.5 ? 1 : 0) }
        let spirals = try DataSets.load("spirals")
        XCTAssertEqual(spirals.train.count + spirals.test.count, 900)
        XCTAssertEqual(spirals.classCount, 3)
        let (p, labels) = SyntheticSets.patterns2x2()
        XCTAssertEqual(p.shape, [8, 1, 2, 2])
        XCTAssertEqual(labels.toArray(as: Int.self), [0, 0, 1, 1, 2, 2, 3, 3])
        XCTAssertEqual(p[4].flatten().toArray(as: Float.self), [1, -1, -1, 1])
        let centred = try DataSets.load("x-centred"), shifted = try DataSets.load("x-shifted")
        XCTAssertEqual(centred.train.sampleShape, [1, 64, 64])
        XCTAssertEqual([centred.train.count, centred.test.count], [1000, 500])
        // Centred shapes keep the image's corners empty; shifted ones reach them.
        func cornerInk(_ d: TensorDataset) -> Double {
            (d.inputs.narrow(dim: 2, start: 0, length: 16).narrow(dim: 3, start: 0, length: 16) .> 0.5).to(.float32).sum().item()
        }
        XCTAssertEqual(cornerInk(centred.train), 0)
        XCTAssertGreaterThan(cornerInk(shifted.train), 100)
    }
}

/// MD5 against RFC 1321's test suite; downloads from file:// mirrors.
final class DownloadTests: XCTestCase {
    func testMD5MatchesRFC1321() {
        XCTAssertEqual(MD5.hex([]), "d41d8cd98f00b204e9800998ecf8427e")
        XCTAssertEqual(MD5.hex(Array("abc".utf8)), "900150983cd24fb0d6963f7d28e17f72")
        XCTAssertEqual(MD5.hex(Array("message digest".utf8)), "f96b697d7cb7938d525a2f31aaf161d0")
        let digits = String(repeating: "1234567890", count: 8)
        XCTAssertEqual(MD5.hex(Array(digits.utf8)), "57edf4a22be3c955ac49da2e2107b67a")
        var m = MD5()  // the same bytes in uneven pieces, across the 64-byte blocks
        let bytes = Array(digits.utf8)
        for piece in [0..<3, 3..<64, 64..<65, 65..<80] { m.update(Array(bytes[piece])) }
        XCTAssertEqual(m.hexDigest(), "57edf4a22be3c955ac49da2e2107b67a")
    }

    func testDownloadChecksMD5AndLeavesNoPartialFile() throws {
        let base = NSTemporaryDirectory() + "neurone-dl-\(getpid())"
        let mirror = base + "/mirror", out = base + "/out"
        try FileManager.default.createDirectory(atPath: mirror, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: base) }
        try "abc".write(toFile: mirror + "/file.bin", atomically: true, encoding: .utf8)
        guard Download.tool() != nil else {
            XCTAssertThrowsError(try Download.fetch("file.bin", mirrors: ["file://\(mirror)/"], md5: "x", to: out + "/file.bin")) {
                XCTAssertEqual("\($0)", "cannot download file.bin: neither curl nor wget is installed (apt-get install curl)")
            }
            return
        }
        XCTAssertThrowsError(try Download.fetch("file.bin", mirrors: ["file://\(mirror)/"], md5: "0123", to: out + "/file.bin")) {
            XCTAssertEqual("\($0)", "could not download file.bin: file://\(mirror)/file.bin: checksum mismatch (MD5 900150983cd24fb0d6963f7d28e17f72, expected 0123); the file was discarded")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: out), [])
        // The first mirror lacks the file; the second has it.
        try Download.fetch("file.bin", mirrors: ["file://\(base)/nowhere/", "file://\(mirror)/"], md5: "900150983cd24fb0d6963f7d28e17f72", to: out + "/file.bin")
        XCTAssertEqual(try String(contentsOfFile: out + "/file.bin", encoding: .utf8), "abc")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: out), ["file.bin"])
        XCTAssertThrowsError(try DataSets.download("cifar10")) {
            XCTAssertEqual("\($0)", "'cifar10' cannot be downloaded; downloadable data sets: fashion-mnist, mnist, usps")
        }
    }

}

/// The SVG plots draw what they are given.
final class PlotTests: XCTestCase {
    func testScatterAndHeatmapDrawWhatTheyAreGiven() {
        XCTAssertEqual(niceTicks(-0.3, 2.1, count: 5), [0, 0.5, 1, 1.5, 2])
        let svg = scatterSVG(points: [(0, 0, 0), (1, 2, 1), (.nan, 1, 0), (0.5, 1, 1)], classNames: ["a", "b"], title: "t<1>")
        // Three finite points plus two legend dots; the NaN point is left out; the title is escaped.
        XCTAssertEqual(svg.components(separatedBy: "<circle").count - 1, 5)
        XCTAssertEqual(svg.components(separatedBy: "fill=\"#ff7f0e\" fill-opacity").count - 1, 2)
        XCTAssertTrue(svg.contains("t&lt;1&gt;"))
        let map = heatmapSVG([[0, 1], [0.25, 0.75]], rowLabels: ["r0", "r1"], columnLabels: ["c0", "c1"], title: "m")
        XCTAssertEqual(map.components(separatedBy: "<rect").count - 1, 5)          // background + 4 cells
        XCTAssertTrue(map.contains("fill=\"rgb(255,255,255)\"") && map.contains("fill=\"rgb(8,48,107)\""))
        XCTAssertTrue(map.contains(">0.75<") && map.contains(">r1<") && map.contains(">c1<"))
    }

    func testDecisionBoundaryDrawsOneRectanglePerRunOfEqualCells() {
        // Class 1 right of x = 0 and above y = 0.5: columns 0–1 one run each, columns 2–3 two runs each.
        let svg = decisionBoundarySVG(points: [(0.5, 0.5, 1), (-0.5, -0.5, 0)], classes: 2, xRange: -1...1, yRange: -1...1,
                                      resolution: 4, title: "t") { x, y in x > 0 && y > 0.5 ? 1 : 0 }
        let cells = svg.components(separatedBy: "\n").filter { $0.hasPrefix("<rect x=") && $0.contains("stroke=\"none\"") }
        XCTAssertEqual(cells.count, 6)
        XCTAssertEqual(cells.filter { $0.contains("#fdd0a2") }.count, 2)                         // class 1: the top cell of columns 2, 3
        XCTAssertTrue(cells[0].contains("height=\"420.3\""))                                    // column 0: one full-height run
        XCTAssertEqual(svg.components(separatedBy: "<polygon").count - 1, 1)                      // one star (class 1 point)
    }
}
