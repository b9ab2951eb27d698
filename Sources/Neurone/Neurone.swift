// `import Neurone` brings the whole library: the umbrella re-exports every layer's module
// (docs/ARCHITECTURE.md), so programs and examples need one import whatever the cut.
@_exported import NeuroneDevice
@_exported import NeuroneCPU
@_exported import NeuroneReference
@_exported import NeuroneTensor
@_exported import NeuroneNN
@_exported import NeuroneOptim
@_exported import NeuroneIO
@_exported import NeuroneData
@_exported import NeuronePlots
@_exported import NeuroneDistributed
@_exported import NeuroneTraining
@_exported import NeuroneExplain
