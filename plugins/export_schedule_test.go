package plugins

// CheckManifest parses and validates a manifest document (tests).
func CheckManifest(b []byte) error {
	m, err := parseManifest(b)
	if err != nil {
		return err
	}
	return m.validate()
}
