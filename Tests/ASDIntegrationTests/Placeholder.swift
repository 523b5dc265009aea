// Integration tests live here (see Harness.swift once merged).
