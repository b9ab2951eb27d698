import ArgumentParser
import Foundation
import Neurone

struct ExplainActivationCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "activation",
        abstract: "An activation's formula, range, derivative and behaviour at ±∞, with an SVG of the function and its derivative.",
        discussion: "Known: \(ActivationFacts.all.map { $0.name }.joined(separator: ", ")).")

    @Argument(help: "The activation.")
    var name: String

    @Option(help: "Where to write the SVG (default: activation-NAME.svg).")
    var out: String?

    @Flag(help: "Print one JSON object.")
    var json = false

    func run() throws {
        let facts: ActivationFacts
        do { facts = try ActivationFacts.named(name) } catch let e as ExplainError { throw ValidationError(e.message) }
        let z: [Double] = [-6, -4, -2, -1, -0.5, 0, 0.5, 1, 2, 4, 6]
        let (v, d) = facts.values(at: z)
        let path = out ?? "activation-\(facts.name).svg"
        try writeAtomically(facts.chartSVG(), to: path)
        if json {
            let pts = zip(z, zip(v, d)).map { "{\"z\":\($0.0),\"value\":\($0.1.0),\"derivative\":\($0.1.1)}" }.joined(separator: ",")
            print("{\"name\":\(jsonString(facts.name)),\"formula\":\(jsonString(facts.formula)),\"range\":\(jsonString(facts.range)),\"derivative\":\(jsonString(facts.derivative)),\"at_infinity\":\(jsonString(facts.atInfinity)),\"notes\":\(jsonString(facts.notes)),\"values\":[\(pts)],\"svg\":\(jsonString(path))}")
            return
        }
        print("\(facts.name)")
        print("  formula     \(facts.formula)")
        print("  range       \(facts.range)")
        print("  derivative  \(facts.derivative)")
        print("  at ±∞       \(facts.atInfinity)")
        print("  note        \(facts.notes)")
        print("")
        print("         z        f(z)       f′(z)   (f′ by Neurone's autograd, float64)")
        for (i, zi) in z.enumerated() { print(String(format: "  %8.2f  %10.6f  %10.6f", zi, v[i], d[i])) }
        print("wrote \(path)")
    }
}
