/// The sizes of a 2-D convolution with groups = 1: x [batch, channels, height, width], w
/// [outChannels, channels, kh, kw], y [batch, outChannels, outH, outW] (kh, kw, outH, outW in
/// `geometry`).
package struct Conv2dProblem {
    package var dtype: DType
    package var batch: Int, channels: Int, height: Int, width: Int
    package var outChannels: Int
    package var geometry: WindowGeometry

    package init(dtype: DType, batch: Int, channels: Int, height: Int, width: Int, outChannels: Int, geometry: WindowGeometry) {
        (self.dtype, self.batch, self.channels, self.height, self.width) = (dtype, batch, channels, height, width)
        (self.outChannels, self.geometry) = (outChannels, geometry)
    }
}
