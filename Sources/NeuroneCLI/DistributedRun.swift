import ArgumentParser
import Foundation
import Neurone

extension MPIProcessGroup {
    /// The threads one process may use when `mpirun` starts several on this machine: its cores
    /// shared among them (OMPI_COMM_WORLD_LOCAL_SIZE); nil when this process is alone here.
    static var threadsPerLocalProcess: Int? {
        guard let local = ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_LOCAL_SIZE"].flatMap(Int.init), local > 1 else { return nil }
        return Swift.max(1, ProcessInfo.processInfo.activeProcessorCount / local)
    }

    /// Runs one process's part of a job, then finalizes MPI. An error is printed with this rank
    /// and ends the whole job (one process failing must not leave the others waiting in a
    /// reduction); the command then exits with status 1.
    func runEndingTheJobOnError(_ body: () throws -> Void) throws {
        do {
            try body()
        } catch let e as ExitCode {
            finalize()
            throw e
        } catch {
            FileHandle.standardError.write(Data("neurone: rank \(rank) of \(worldSize): Error: \(error)\n".utf8))
            if worldSize > 1 { abort(code: 1) }
            finalize()
            throw ExitCode(1)
        }
        finalize()
    }
}
