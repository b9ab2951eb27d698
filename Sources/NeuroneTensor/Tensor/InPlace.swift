import NeuroneDevice

/// In-place updates, outside autograd: loading weights, optimiser steps, zeroing gradients.
/// They write into the tensor's storage (and so into every view that shares it).
extension Tensor {
    /// Copies `src` (broadcast to self's shape, cast to self's dtype) into self's elements.
    /// Not recorded by autograd; refuses leaves that require grad while grad mode is on.
    public func copy(from src: Tensor) {
        check(!(GradMode.enabled && _requiresGrad && isLeaf),
              "copy(from:): a leaf tensor that requires grad cannot be changed in place while grad mode is on; use withNoGrad { }")
        _ = broadcastShapes(shape, src.shape, op: "copy(from:)")
        check(broadcastShapes(shape, src.shape, op: "copy(from:)") == shape,
              "copy(from:): source of shape \(describeShape(src.shape)) does not broadcast to the destination's shape \(describeShape(shape))")
        assign(from: src)
    }

    /// Replaces the elements with `values` (row-major; the count must match).
    public func copy<T: TensorScalar>(from values: [T]) {
        check(values.count == count,
              "copy(from:): \(values.count) values given for a tensor of shape \(describeShape(shape)) (\(count) elements)")
        copy(from: Tensor(values, shape: shape, dtype: dtype))
    }

    /// Sets every element to `value` in place.
    public func fill(_ value: Double) {
        copy(from: Tensor.full([], value, dtype: dtype, device: device))
    }

    /// Sets every element to zero in place.
    public func zero() { fill(0) }
}
