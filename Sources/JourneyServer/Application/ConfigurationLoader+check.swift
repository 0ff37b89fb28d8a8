extension ConfigurationLoader {
    /// Loads the file and also proves the files it names are usable (TLS certificate, key and client CA),
    /// which is what `--check-config` promises before a start or a reload.
    public static func loadChecked(path: String) throws(ConfigurationError) -> JourneydConfiguration {
        let configuration = try load(path: path)
        _ = try TLSMaterial.streamConfiguration(configuration)
        return configuration
    }
}
