import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// Runs one listener (`http`, `stream` or `admin`) and moves it to a new address on a reload:
/// a new generation of the listener is bound on the new address first (`start`); only once the
/// whole reload is accepted does it become current (`promote`), and the previous generation is
/// stopped gracefully — it stops accepting, finishes its requests, and its stream connections
/// acknowledge what they stored and close. A generation whose reload is refused is stopped the
/// same way (`discard`). A listener that does not move keeps its one generation and connections.
///
/// A `Service` in the daemon's group. Each generation runs in a nested `ServiceGroup` in a child
/// task of `run`, so the daemon's graceful stop reaches every generation, and one generation can
/// be stopped alone. `ReloadService` calls `start`, `promote` and `discard` from its task; the
/// bookkeeping sits behind a `Mutex`, and `run` alone adds generation tasks.
final class ListenerSupervisor: Service {
    /// Builds one generation of the listener on `address`; it calls `onBound` once it listens.
    typealias Factory = @Sendable (_ address: ListenAddress, _ onBound: @escaping @Sendable (any Channel) -> Void) throws -> any Service

    let listener: ReloadPlan.Listener
    private let initialAddress: ListenAddress
    private let makeGeneration: Factory
    private let startup: StartupProgress
    private let logger: Logger
    private let events: AsyncStream<Event>
    private let eventsContinuation: AsyncStream<Event>.Continuation
    private let state = Mutex(State())

    private enum Event: Sendable {
        case start(id: Int, address: ListenAddress)
        case ended(id: Int, Result<Void, any Error>)
        case stop
    }

    private struct State {
        var nextID = 0
        var current = 0
        var groups: [Int: ServiceGroup] = [:]
        /// Generations told to stop (replaced or discarded); their end is expected.
        var retiring: Set<Int> = []
        /// Callers of `start` waiting until their generation listens or fails.
        var waiters: [Int: CheckedContinuation<Int, any Error>] = [:]
        var stopping = false
    }

    init(listener: ReloadPlan.Listener, address: ListenAddress, startup: StartupProgress, logger: Logger, makeGeneration: @escaping Factory) {
        self.listener = listener
        self.initialAddress = address
        self.startup = startup
        self.logger = logger
        self.makeGeneration = makeGeneration
        (events, eventsContinuation) = AsyncStream.makeStream()
    }

    func run() async throws {
        eventsContinuation.yield(.start(id: 0, address: initialAddress))
        let outcome: Result<Void, any Error> = await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                var outcome: Result<Void, any Error> = .success(())
                events: for await event in events {
                    switch event {
                    case .start(let id, let address):
                        group.addTask { await self.runGeneration(id: id, address: address) }
                    case .ended(let id, let result):
                        let wasCurrent = state.withLock { state in
                            state.groups[id] = nil
                            return state.retiring.remove(id) == nil && state.current == id && !state.stopping
                        }
                        if wasCurrent {
                            outcome = result
                            await stopAll()
                            break events
                        }
                        if case .failure(let error) = result {
                            logger.debug("listener generation ended with an error", metadata: ["listener": "\(listener.rawValue)", "error": "\(error)"])
                        }
                    case .stop:
                        break events
                    }
                }
                await group.waitForAll()
                return outcome
            }
        } onGracefulShutdown: {
            self.state.withLock { state in
                state.stopping = true
                self.eventsContinuation.yield(.stop)
            }
        }
        try outcome.get()
    }

    /// Binds a new generation on `address` and returns its id once it listens. It serves at once,
    /// but stays second until `promote`d, or stops when `discard`ed.
    func start(at address: ListenAddress) async throws(ListenerMoveError) -> Int {
        do {
            return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Int, any Error>) in
                let id: Int? = state.withLock { state in
                    guard !state.stopping else { return nil }
                    state.nextID += 1
                    let id = state.nextID
                    state.waiters[id] = continuation
                    eventsContinuation.yield(.start(id: id, address: address))
                    return id
                }
                if id == nil { continuation.resume(throwing: ListenerMoveError.Reason.daemonStopping) }
            }
        } catch let reason as ListenerMoveError.Reason {
            throw ListenerMoveError(listener: listener, address: address, reason: reason)
        } catch {
            throw ListenerMoveError(listener: listener, address: address, reason: .notBound("\(error)"))
        }
    }

    /// Makes generation `id` the current one and stops the previous one gracefully.
    func promote(_ id: Int) async {
        let previous: ServiceGroup? = state.withLock { state in
            let previous = state.current
            state.current = id
            state.retiring.insert(previous)
            return state.groups[previous]
        }
        await previous?.triggerGracefulShutdown()
    }

    /// Stops generation `id` (started for a reload that was refused) gracefully.
    func discard(_ id: Int) async {
        let group: ServiceGroup? = state.withLock { state in
            state.retiring.insert(id)
            return state.groups[id]
        }
        await group?.triggerGracefulShutdown()
    }

    /// Runs one generation to its end; its `start` caller learns whether it came to listen.
    private func runGeneration(id: Int, address: ListenAddress) async {
        let result: Result<Void, any Error>
        do {
            let service = try makeGeneration(address) { channel in self.bound(id: id, channel: channel) }
            let group = ServiceGroup(configuration: .init(services: [.init(service: service)], logger: logger))
            let retired = state.withLock { state in
                state.groups[id] = group
                return state.retiring.contains(id)
            }
            if retired { await group.triggerGracefulShutdown() }
            try await group.run()
            result = .success(())
        } catch {
            result = .failure(error)
        }
        let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
        switch result {
        case .success: waiter?.resume(throwing: ListenerMoveError.Reason.notBound("the listener stopped before it was listening"))
        case .failure(let error): waiter?.resume(throwing: ListenerMoveError.Reason.notBound("\(error)"))
        }
        eventsContinuation.yield(.ended(id: id, result))
    }

    private func bound(id: Int, channel: any Channel) {
        if id == 0 {
            startup.report(listener.rawValue, channel: channel, logger: logger)
        } else {
            StartupProgress.logListening(listener.rawValue, channel: channel, logger: logger)
        }
        state.withLock { $0.waiters.removeValue(forKey: id) }?.resume(returning: id)
    }

    /// After the current generation ended by itself: stops any other (the supervisor ends too).
    private func stopAll() async {
        let groups = state.withLock { state in
            state.stopping = true
            return Array(state.groups.values)
        }
        for group in groups { await group.triggerGracefulShutdown() }
    }
}

/// Why a listener could not move to its new address; the reload is refused and every listener
/// stays where it was.
struct ListenerMoveError: Error, CustomStringConvertible {
    enum Reason: Error, CustomStringConvertible {
        case notBound(String)
        case daemonStopping

        var description: String {
            switch self {
            case .notBound(let reason): reason
            case .daemonStopping: "the daemon is stopping"
            }
        }
    }

    let listener: ReloadPlan.Listener
    let address: ListenAddress
    let reason: Reason

    var description: String {
        "\(listener.key): cannot listen on \(address) (\(reason)); free the address or choose another, then reload again"
    }
}
