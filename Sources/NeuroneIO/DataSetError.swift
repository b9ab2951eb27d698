import NeuroneDevice
import NeuroneTensor
import NeuroneNN

/// A problem finding or reading a data set: names the files looked for, where, and how to get them.
public struct DataSetError: Error, CustomStringConvertible {
    /// What went wrong, naming the files and directories involved.
    public let message: String
    /// True when the files were not found at all (rather than found and bad).
    public var filesMissing = false
    public var description: String { message }

    /// An error with `message`; `filesMissing` when the files were not found at all.
    public init(message: String, filesMissing: Bool = false) {
        self.message = message
        self.filesMissing = filesMissing
    }
}
