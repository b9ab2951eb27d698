/// Geometry of a 2-D sliding window (convolution or pooling) over an [H, W] plane.
/// Output position (oh, ow) covers input rows oh·strideH − padH + i·dilationH, i < kernelH.
public struct WindowGeometry: Equatable, Sendable {
    /// Window size.
    public var kernelH: Int, kernelW: Int
    /// Step between windows.
    public var strideH: Int, strideW: Int
    /// Implicit zero (or ignored) border on each side.
    public var padH: Int, padW: Int
    /// Spacing between window taps.
    public var dilationH: Int, dilationW: Int
    /// Number of window positions.
    public var outH: Int, outW: Int

    /// A window's geometry from its sizes.
    public init(kernelH: Int, kernelW: Int, strideH: Int, strideW: Int, padH: Int, padW: Int,
                dilationH: Int, dilationW: Int, outH: Int, outW: Int) {
        (self.kernelH, self.kernelW, self.strideH, self.strideW) = (kernelH, kernelW, strideH, strideW)
        (self.padH, self.padW, self.dilationH, self.dilationW, self.outH, self.outW) = (padH, padW, dilationH, dilationW, outH, outW)
    }

    /// Average pooling's window at output (oh, ow) over a height × width input, as PyTorch defines
    /// it: the rows and columns it sums (the window clipped to the input) and its divisor —
    /// `divisorOverride` when given, else the window's size clipped to the padded input
    /// (`countIncludePad`) or the number of positions summed. Every backend's pooling uses it.
    @inlinable
    package func averagePoolingWindow(_ oh: Int, _ ow: Int, height: Int, width: Int, countIncludePad: Bool,
                                      divisorOverride: Int?) -> (rows: Range<Int>, columns: Range<Int>, divisor: Int) {
        var h0 = oh * strideH - padH, w0 = ow * strideW - padW
        var h1 = Swift.min(h0 + kernelH, height + padH), w1 = Swift.min(w0 + kernelW, width + padW)
        let poolSize = (h1 - h0) * (w1 - w0)
        h0 = Swift.max(h0, 0); w0 = Swift.max(w0, 0)
        h1 = Swift.min(h1, height); w1 = Swift.min(w1, width)
        let divisor = divisorOverride ?? (countIncludePad ? poolSize : (h1 - h0) * (w1 - w0))
        return (h0..<Swift.max(h0, h1), w0..<Swift.max(w0, w1), divisor)
    }
}
