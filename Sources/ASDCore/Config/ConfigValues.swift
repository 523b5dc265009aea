import ASDCopy
import ASDSystem
/// The value a config file gave one variable: bash has plain strings and
/// indexed arrays, and asd needs nothing more. Values are bytes (`FilePath`):
/// a path in the config need not be UTF-8.
enum ConfigValue: Equatable, Hashable, Sendable {
    case scalar(FilePath)
    case array([FilePath])

    /// What `$NAME` gives in bash: the string, or an array's first element.
    var expanded: FilePath {
        switch self {
        case .scalar(let value): return value
        case .array(let elements): return elements.first ?? ""
        }
    }

    /// What `"${NAME[@]}"` gives in bash: a string counts as one element.
    var elements: [FilePath] {
        switch self {
        case .scalar(let value): return [value]
        case .array(let elements): return elements
        }
    }
}

/// Every variable a config file assigned, in the order of first assignment.
/// Produced by `ConfigFile.parse`; holds values only, never code.
struct ConfigValues: Equatable, Sendable {
    /// Variable name to its final value.
    private(set) var variables: [String: ConfigValue] = [:]
    /// Names in the order the file first assigned them.
    private(set) var order: [String] = []
    /// The 1-based line of each name's first assignment (for warnings).
    private(set) var lines: [String: Int] = [:]
    /// Names that a later `$NAME` read: helpers, not typos of a key.
    private(set) var referenced: Set<String> = []

    init() {}

    /// Builds values from literal pairs (for tests and callers that have values already).
    init(_ pairs: KeyValuePairs<String, ConfigValue>) {
        for (name, value) in pairs { self[name] = value }
    }

    subscript(name: String) -> ConfigValue? {
        get { variables[name] }
        set {
            if variables[name] == nil, newValue != nil { order.append(name) }
            if newValue == nil { order.removeAll { $0 == name } }
            variables[name] = newValue
        }
    }

    /// Notes where `name` was first assigned.
    mutating func noteAssignment(_ name: String, line: Int) {
        if lines[name] == nil { lines[name] = line }
    }

    mutating func noteReference(_ name: String) { referenced.insert(name) }

    /// Equal values; where they were assigned and what read them does not count.
    static func == (lhs: ConfigValues, rhs: ConfigValues) -> Bool {
        lhs.variables == rhs.variables && lhs.order == rhs.order
    }

    /// The variable as bash's `$NAME` would give it, or nil when the file never assigned it.
    func string(_ name: String) -> FilePath? {
        variables[name]?.expanded
    }
}
