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
}
