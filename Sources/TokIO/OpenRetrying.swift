#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// `open(2)`, tried again while a signal interrupts it: opening a FIFO or a device can block, and a signal handler
/// installed without SA_RESTART (or a stop and continue) then makes it fail with EINTR.
func openRetryingInterrupts(_ path: String, _ flags: Int32, _ mode: mode_t = 0) -> Int32 {
    var fd: Int32
    repeat { fd = open(path, flags, mode) } while fd < 0 && errno == EINTR
    return fd
}
