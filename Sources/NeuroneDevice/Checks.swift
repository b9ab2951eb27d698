/// Programming-error checks that keep their message in optimised builds.
///
/// Swift's `precondition` drops its message under `-O`, leaving a bare "illegal instruction";
/// these print "Fatal error: <message>" in every build configuration, so a wrong shape in a
/// release binary still says which op and which shapes.
@inline(__always)
package func check(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String,
           file: StaticString = #fileID, line: UInt = #line) {
    if _slowPath(!condition()) { fatalError("Neurone: " + message(), file: file, line: line) }
}

/// Stops with a message (see `check`).
package func fail(_ message: @autoclosure () -> String, file: StaticString = #fileID, line: UInt = #line) -> Never {
    fatalError("Neurone: " + message(), file: file, line: line)
}
