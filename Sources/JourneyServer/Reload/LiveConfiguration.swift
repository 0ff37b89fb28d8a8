import JourneyCore
import Synchronization

/// The configuration in force, which a SIGHUP reload replaces whole (`ReloadService` is the only
/// writer). Request handlers and stream connections read `current` once when they start and use
/// that value to the end, so one request or connection never mixes two configurations; an open
/// stream connection keeps the source it authenticated with.
///
/// Shared by every event loop and task; the value sits behind a `Mutex` held only to copy it.
final class LiveConfiguration: Sendable {
    /// One configuration with what is derived from it, built once per reload rather than per request.
    struct Settings: Sendable {
        let configuration: JourneydConfiguration
        /// Validates and normalises events with the configured limits, identifier and phase rules.
        let normaliser: EventNormaliser

        init(_ configuration: JourneydConfiguration) {
            self.configuration = configuration
            self.normaliser = configuration.eventNormaliser
        }
    }

    private let settings: Mutex<Settings>

    init(_ configuration: JourneydConfiguration) {
        settings = Mutex(Settings(configuration))
    }

    var current: Settings { settings.withLock { $0 } }

    func replace(with configuration: JourneydConfiguration) {
        let replacement = Settings(configuration)
        settings.withLock { $0 = replacement }
    }
}
