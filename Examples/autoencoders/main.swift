// COURSE.md §11: a variational autoencoder against a plain autoencoder on digits, both with a 2-D
// latent space: encoder → μ, log σ²; z = μ + σ·ε (reparameterisation); decoder; loss =
// reconstruction (binary cross-entropy) + KL(q(z|x) ‖ N(0, I)). Reconstructions and generated
// samples as PNG grids, the latent space as SVG scatter plots.
//   swift run -c release autoencoders [--quick]
import Foundation
import Neurone

let quick = CommandLine.arguments.contains("--quick")
setenv("NEURONE_QUIET", "1", 1)
let outDir = "examples-out/autoencoders"
try FileManager.default.createDirectory(atPath: outDir, withIntermediateDirectories: true)
let digits = try DataSets.load("mnist-5k")
let trainX = digits.train.inputs.reshape([digits.train.count, 784]), testX = digits.test.inputs.reshape([digits.test.count, 784])
let epochs = quick ? 6 : 30, hidden = 256, batchSize = 100

/// Encoder 784 → 256 ReLU → 2 numbers (the code; for the VAE also 2 more: log σ²), decoder
/// 2 → 256 ReLU → 784 sigmoid.
final class AutoEncoder: Module {
    let variational: Bool
    let enc: Linear, code: Linear, logVarHead: Linear?, dec1: Linear, dec2: Linear
    init(variational: Bool, _ g: Generator) {
        self.variational = variational
        enc = Linear(784, hidden, generator: g); code = Linear(hidden, 2, generator: g)
        logVarHead = variational ? Linear(hidden, 2, generator: g) : nil
        dec1 = Linear(2, hidden, generator: g); dec2 = Linear(hidden, 784, generator: g)
        super.init()
    }
    override var namedChildren: [(String, Module)] {
        [("enc", enc), ("code", code)] + (logVarHead.map { [("log_var", $0)] } ?? []) + [("dec1", dec1), ("dec2", dec2)]
    }
    /// μ (the code) and log σ² (nil for the plain autoencoder).
    func encode(_ x: Tensor) -> (mu: Tensor, logVar: Tensor?) {
        let h = enc(x).relu()
        return (code(h), logVarHead.map { $0(h) })
    }
    func decode(_ z: Tensor) -> Tensor { dec2(dec1(z).relu()).sigmoid() }
    override func forward(_ x: Tensor) -> Tensor { decode(encode(x).mu) }
}

/// Trains one model; returns the mean training loss per epoch.
func fit(_ m: AutoEncoder, seed: UInt64) throws -> [Double] {
    let g = Generator(seed: seed), opt = Adam(m.parameters(), lr: 1e-3)
    let data = TensorDataset(inputs: trainX, labels: digits.train.labels)
    var curve: [Double] = []
    for _ in 0..<epochs {
        var sum = 0.0, n = 0
        for batch in DataLoader(data, batchSize: batchSize, shuffle: true, generator: g) {
            let x = batch.inputs
            let (mu, logVar) = m.encode(x)
            let loss: Tensor
            if let logVar {
                let z = mu + (logVar * 0.5).exp() * Tensor.randn(mu.shape, generator: g)   // reparameterisation
                loss = Loss.vae(reconstruction: m.decode(z), target: x, mu: mu, logVar: logVar, reduction: .mean)
            } else {
                loss = Loss.binaryCrossEntropy(m.decode(mu), x, reduction: .sum) / Double(x.shape[0])
            }
            loss.backward(); opt.step(); opt.zeroGrad()
            sum += loss.item() * Double(x.shape[0]); n += x.shape[0]
        }
        curve.append(sum / Double(n))
    }
    return curve
}

print("mnist-5k: \(digits.train.count) training and \(digits.test.count) test digits, 28×28 flattened to 784 values in [0, 1]")
print("both: encoder 784 → \(hidden) ReLU → 2-D code, decoder 2 → \(hidden) ReLU → 784 sigmoid; Adam lr 0.001, batch \(batchSize), \(epochs) epochs")
print("plain autoencoder: loss = BCE(x̂, x) per image; VAE: encoder → μ, log σ²; z = μ + σ·ε, ε ~ N(0, I); loss = BCE + KL(N(μ, σ²) ‖ N(0, I))\n")
let ae = AutoEncoder(variational: false, Generator(seed: 1)), vae = AutoEncoder(variational: true, Generator(seed: 1))
let aeCurve = try fit(ae, seed: 2), vaeCurve = try fit(vae, seed: 2)

// Test-set numbers, per image: reconstruction BCE (from the code μ), KL, the codes' statistics.
let meanImage = trainX.mean(dim: 0).clamp(min: 1e-6, max: 1 - 1e-6)
let baseline = withNoGrad { Loss.binaryCrossEntropy(meanImage.expand(testX.shape), testX, reduction: .sum).item() } / Double(testX.shape[0])
func report(_ m: AutoEncoder) -> (bce: Double, kl: Double?, codes: Tensor) {
    withNoGrad {
        let (mu, logVar) = m.encode(testX)
        let bce = Loss.binaryCrossEntropy(m.decode(mu), testX, reduction: .sum).item() / Double(testX.shape[0])
        let kl = logVar.map { ((1.0 + $0 - mu * mu - $0.exp()).sum() * -0.5).item() / Double(testX.shape[0]) }
        return (bce, kl, mu)
    }
}
let (aeR, vaeR) = (report(ae), report(vae))
func stats(_ codes: Tensor) -> String {
    let m = codes.mean(dim: 0).toArray(as: Float.self), s = codes.std(dims: [0]).toArray(as: Float.self)
    return String(format: "mean (%.2f, %.2f), std (%.2f, %.2f)", m[0], m[1], s[0], s[1])
}
print("test set, per image         reconstruction BCE    KL     codes")
print(String(format: "   mean training image       %8.1f", baseline))
print(String(format: "   plain autoencoder         %8.1f         —      ", aeR.bce) + stats(aeR.codes))
print(String(format: "   variational autoencoder   %8.1f    %6.2f     ", vaeR.bce, vaeR.kl!) + stats(vaeR.codes))
print(String(format: "training loss per image, first → last epoch: autoencoder %.1f → %.1f, VAE %.1f → %.1f", aeCurve[0], aeCurve.last!, vaeCurve[0], vaeCurve.last!))

// Figures. Reconstructions: the first test image of each digit and of each digit again, then the
// autoencoder's and the VAE's reconstructions.
let testLabels = digits.test.labels.toArray(as: Int64.self)
let picks = (0..<10).map { d in testLabels.firstIndex(of: Int64(d))! } + (0..<2).map { d in testLabels.lastIndex(of: Int64(d + 3))! }
let shown = testX.indexSelect(dim: 0, index: Tensor(picks.map(Int64.init)))
let recon = withNoGrad { Tensor.cat([shown, ae(shown), vae(shown)]) }.reshape([36, 1, 28, 28])
try PNG.write(imageGrid(recon, columns: 12, scale: 2), to: "\(outDir)/reconstructions.png")
// New digits: decode random codes. The VAE's prior is N(0, I); the autoencoder has no prior, so its
// codes are drawn from a normal fitted to its training codes (per dimension).
let sg = Generator(seed: 3)
let (aeTrainCodes, _) = withNoGrad { ae.encode(trainX) }
let aeZ = Tensor.randn([32, 2], generator: sg) * aeTrainCodes.std(dims: [0]) + aeTrainCodes.mean(dim: 0)
let samples = withNoGrad { Tensor.cat([ae.decode(aeZ), vae.decode(Tensor.randn([32, 2], generator: sg))]) }.reshape([64, 1, 28, 28])
try PNG.write(imageGrid(samples, columns: 16, scale: 2), to: "\(outDir)/samples.png")
// The VAE's decoder over a 15 × 15 grid of codes in [−2, 2]².
let side = 15
let grid = (0..<(side * side)).flatMap { k -> [Double] in
    [-2 + 4 * Double(k % side) / Double(side - 1), 2 - 4 * Double(k / side) / Double(side - 1)]
}
let manifold = withNoGrad { vae.decode(Tensor(grid, shape: [side * side, 2], dtype: .float32)) }.reshape([side * side, 1, 28, 28])
try PNG.write(imageGrid(manifold, columns: side), to: "\(outDir)/vae-latent-grid.png")
// The latent spaces: each test digit at its code μ, coloured by its label.
let labels = digits.test.labels.toArray(as: Int64.self)
for (name, codes) in [("autoencoder", aeR.codes), ("vae", vaeR.codes)] {
    let c = codes.toArray(as: Float.self)
    let pts = labels.indices.map { (x: Double(c[2 * $0]), y: Double(c[2 * $0 + 1]), label: Int(labels[$0])) }
    try writeAtomically(scatterSVG(points: pts, classNames: (0..<10).map { "digit \($0)" },
                                   title: "\(name == "vae" ? "VAE" : "plain autoencoder"): test digits at their 2-D code μ",
                                   xLabel: "z1", yLabel: "z2"), to: "\(outDir)/latent-\(name).svg")
}
print("\nwrote \(outDir)/reconstructions.png (rows: test digits, autoencoder, VAE), samples.png (rows 1–2: autoencoder, 3–4: VAE),")
print("      vae-latent-grid.png (the VAE's decoder over codes in [−2, 2]²), latent-autoencoder.svg and latent-vae.svg")

// What the example shows must hold (CI runs it with --quick).
// The VAE's codes sit around the origin at about unit scale (its prior); the autoencoder's
// location and scale are arbitrary — measured as the largest |mean| and |log std| over the dims.
func offPrior(_ codes: Tensor) -> Double {
    let m = codes.mean(dim: 0).abs().max().item(), s = codes.std(dims: [0]).toArray(as: Float.self).map { abs(log(Double($0))) }.max()!
    return Swift.max(m, s)
}
print(String(format: "distance of the codes from N(0, I) (largest |mean| or |log std| over the 2 dims): autoencoder %.2f, VAE %.2f", offPrior(aeR.codes), offPrior(vaeR.codes)))
guard aeR.bce < baseline * 0.9, vaeR.bce < baseline * 0.9, offPrior(vaeR.codes) < (quick ? 2.5 : 1), offPrior(vaeR.codes) < offPrior(aeR.codes),
      aeCurve.last! < aeCurve[0], vaeCurve.last! < vaeCurve[0] else {
    print("FAILED: expected both to reconstruct better than the mean image and the VAE's codes to stay closer to its N(0, I) prior")
    exit(1)
}
