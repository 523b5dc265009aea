/// Text helpers for messages and command lines.
extension String {
    public func trimmingTrailingNewlines() -> String {
        var result = Substring(self)
        while let last = result.last, last == "\n" || last == "\r" { result = result.dropLast() }
        return String(result)
    }
}

/// Quotes a word for display the way a shell would accept it.
public func shellQuoted(_ word: String) -> String {
    let safe = word.unicodeScalars.allSatisfy { scalar in
        switch scalar {
        case "a"..."z", "A"..."Z", "0"..."9", "-", "_", ".", "/", "=", ":", ",", "+", "@", "%": return true
        default: return false
        }
    }
    if safe && !word.isEmpty { return word }
    return "'" + word.replacingOccurrencesOfSingleQuote() + "'"
}

extension String {
    fileprivate func replacingOccurrencesOfSingleQuote() -> String {
        var out = ""
        for ch in self { out += ch == "'" ? "'\\''" : String(ch) }
        return out
    }
}

/// Human size in binary units, one decimal below 10: "0 B", "512 B", "1.5 KiB", "21 MiB".
public func formatBytes(_ bytes: UInt64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"]
    var value = Double(bytes)
    var index = 0
    while value >= 1024 && index < units.count - 1 {
        value /= 1024
        index += 1
    }
    if index == 0 { return "\(bytes) B" }
    if value < 10 {
        let tenths = (value * 10).rounded()
        if tenths >= 100 { return "10 \(units[index])" }
        return "\(Int(tenths) / 10).\(Int(tenths) % 10) \(units[index])"
    }
    return "\(Int(value.rounded())) \(units[index])"
}
