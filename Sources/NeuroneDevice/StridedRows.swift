/// Rows of a 3-D operand [N, rows, E] whose last dim is contiguous: sample n's row i starts at
/// buffer + (n·batchStride + i·rowStride) elements.
package struct StridedRows {
    package var buffer: DeviceBuffer
    package var batchStride: Int, rowStride: Int

    package init(buffer: DeviceBuffer, batchStride: Int, rowStride: Int) {
        (self.buffer, self.batchStride, self.rowStride) = (buffer, batchStride, rowStride)
    }
}
