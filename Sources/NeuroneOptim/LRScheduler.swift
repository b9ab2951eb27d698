import NeuroneDevice
import NeuroneTensor
import NeuroneNN
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Learning-rate schedules, as in `torch.optim.lr_scheduler`: call `step()` once per epoch after
/// the optimiser's steps; the schedule sets every group's learning rate from its initial one.
public protocol LRScheduler: AnyObject {
    /// Advances one epoch.
    func step()
    /// The current learning rate of each group.
    var learningRates: [Double] { get }
}
