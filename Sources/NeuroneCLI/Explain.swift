import ArgumentParser
import Foundation
import Neurone

/// `neurone explain`: the numbers behind the course's exercises.
struct Explain: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the numbers behind the course: back-propagation step by step, and more.",
        subcommands: [ExplainBackprop.self, ExplainActivationCommand.self, ExplainVanishing.self, ExplainInit.self, ExplainConv.self])
}

/// The activation named on the command line, or a usage error listing the valid names.
func parseActivation(_ name: String) throws -> ExplainActivation {
    guard let a = ExplainActivation(rawValue: name.lowercased()) else {
        throw ValidationError("unknown activation '\(name)'; valid: \(ExplainActivation.allCases.map { $0.rawValue }.joined(separator: ", "))")
    }
    return a
}

/// Parses "0.05,0.10" (commas or spaces).
func parseNumbers(_ text: String, _ option: String) throws -> [Double] {
    let parts = text.split(whereSeparator: { $0 == "," || $0 == " " }).map(String.init)
    let values = parts.compactMap(Double.init)
    guard !parts.isEmpty, values.count == parts.count else {
        throw ValidationError("\(option): expected numbers separated by commas, got '\(text)'")
    }
    return values
}
