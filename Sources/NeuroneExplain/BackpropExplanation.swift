import NeuroneDevice
import NeuroneTensor
import NeuroneNN
import NeuroneOptim
import NeuroneIO
import NeuroneData
import NeuronePlots
import NeuroneTraining
import Foundation

/// Everything `BackpropExample.explain` computed, ready to print.
public struct BackpropExplanation: Sendable {
    /// A named value with its formula and the formula with numbers put in.
    public struct Quantity: Sendable {
        /// The symbol ("z_h1", "w5").
        public let name: String
        /// The formula in symbols; "frozen" for a parameter that is not updated.
        public let formula: String
        /// The formula with the numbers put in.
        public let substituted: String
        /// The float64 value.
        public let value: Double
    }

    /// One factor of a chain-rule product.
    public struct Factor: Sendable {
        /// The partial derivative ("∂o1/∂z_o1").
        public let name: String
        /// What it equals in symbols ("o1(1 − o1)").
        public let formula: String
        /// Its float64 value, from autograd.
        public let value: Double
    }

    /// A parameter's gradient: the product (or, for a shared bias, the sum) of its factors, and
    /// the gradient autograd gave.
    public struct Gradient: Sendable {
        /// How the factors combine.
        public enum Combination: String, Sendable {
            /// ∂E/∂a · ∂a/∂z · ∂z/∂w.
            case product
            /// A bias shared by several neurons: Σ of their ∂E/∂z.
            case sum
        }
        /// The parameter's name ("w5", "b1").
        public let parameter: String
        /// 1: hidden layer, 2: output layer.
        public let layer: Int
        /// The chain-rule factors (or, for a shared bias, the terms of the sum).
        public let factors: [Factor]
        /// The parameter's gradient as autograd computed it.
        public let autograd: Double
        /// How the factors combine.
        public var combination: Combination = .product

        /// The product (or sum) of the factors' values.
        public var value: Double {
            combination == .product ? factors.reduce(1) { $0 * $1.value } : factors.reduce(0) { $0 + $1.value }
        }
    }

    /// The settings explained.
    public let example: BackpropExample
    /// z and a of every neuron, in order.
    public var forward: [Quantity] = []
    /// The loss before the step.
    public var loss = Quantity(name: "E", formula: "", substituted: "", value: 0)
    /// Output layer first, then hidden layer.
    public var gradients: [Gradient] = []
    /// Every parameter after one step.
    public var updates: [Quantity] = []
    /// The loss after one step.
    public var newLoss = 0.0
    /// (step, loss): step 0 is the start.
    public var lossHistory: [(Int, Double)] = []
    /// Steps run.
    public var steps = 1
    /// After all the steps (when more than one).
    public var finalParameters: [(String, Double)] = []
    /// The outputs after all the steps.
    public var finalOutputs: [Double] = []

    /// A computed value: 9 decimals.
    public static func number(_ v: Double) -> String {
        var s = String(format: "%.9f", v)
        if s == "-0.000000000" { s.removeFirst() }
        return s
    }

    /// A given value (an input, a weight): at most 9 decimals, trailing zeros dropped.
    public static func short(_ v: Double) -> String {
        var s = number(v)
        while s.hasSuffix("0") && !s.hasSuffix(".0") { s.removeLast() }
        return s
    }
}
