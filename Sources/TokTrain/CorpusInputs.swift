#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import TokCore

/// Turns the corpus arguments of `tok train` and `tok count` into the list of files to read.
///
/// Each argument is `-` (standard input), a file, a directory (every regular file below it, recursively,
/// hidden entries skipped), or a glob pattern (`*`, `?`, `[...]`, expanded by glob(3) when no file has that exact
/// name). Files inside a directory or a glob come in byte order of their paths, so the corpus, and therefore the
/// vocabulary, does not depend on the order the file system lists them in.
public enum CorpusInputs {
    /// The files named by `arguments`, in order. Throws `TrainError.input` for an argument that names nothing.
    public static func expand(_ arguments: [String]) throws -> [String] {
        var out: [String] = []
        for a in arguments {
            if a == "-" { out.append(a); continue }
            if a.isEmpty { throw TrainError.input(name: "\"\"", reason: "an empty file name names no file") }
            if try appendExisting(a, to: &out) { continue }
            if a.contains(where: { $0 == "*" || $0 == "?" || $0 == "[" }) {
                let matches = try globFiles(a)
                if matches.isEmpty { throw TrainError.input(name: a, reason: "no file matches this pattern") }
                out += matches
                continue
            }
            throw TrainError.input(name: a, reason: "no such file or directory")
        }
        return out
    }

    /// Appends `path` if it is a file, or the files below it (in byte order) if it is a directory; false if it
    /// does not exist.
    static func appendExisting(_ path: String, to out: inout [String]) throws -> Bool {
        var st = stat()
        guard stat(path, &st) == 0 else { return false }
        if (st.st_mode & S_IFMT) == S_IFDIR {
            var files: [String] = []
            try walk(path, into: &files)
            out += files.sorted(by: byteOrder)
        } else {
            out.append(path)
        }
        return true
    }

    static func byteOrder(_ a: String, _ b: String) -> Bool {
        a.utf8.lexicographicallyPrecedes(b.utf8)
    }

    /// Every regular file below `dir` (symbolic links to files followed, to directories not).
    static func walk(_ dir: String, into files: inout [String]) throws {
        guard let d = opendir(dir) else {
            throw TrainError.input(name: dir, reason: "cannot open directory: \(systemErrorMessage(errno))")
        }
        defer { closedir(d) }
        var subdirs: [String] = []
        while let e = readdir(d) {
            let bytes = withUnsafeBytes(of: e.pointee.d_name) { raw in Array(raw.prefix(while: { $0 != 0 })) }
            if bytes.first == UInt8(ascii: ".") { continue }
            // Skipping it would lose a file without a word; reading it under another name cannot work.
            guard let name = FileNameText.decode(bytes) else {
                throw TrainError.input(name: dir, reason: FileNameText.notUTF8(bytes))
            }
            let path = dir.hasSuffix("/") ? dir + name : dir + "/" + name
            var st = stat()
            if lstat(path, &st) != 0 { continue }
            switch st.st_mode & S_IFMT {
            case S_IFDIR: subdirs.append(path)
            case S_IFREG: files.append(path)
            case S_IFLNK:
                var target = stat()
                if stat(path, &target) == 0 && (target.st_mode & S_IFMT) == S_IFREG { files.append(path) }
            default: break
            }
        }
        for s in subdirs { try walk(s, into: &files) }
    }

    static func globFiles(_ pattern: String) throws -> [String] {
        var g = glob_t()
        defer { globfree(&g) }
        let r = glob(pattern, 0, nil, &g)
        if r == GLOB_NOMATCH { return [] }
        if r != 0 { throw TrainError.input(name: pattern, reason: "cannot expand this pattern") }
        var out: [String] = []
        for i in 0..<Int(g.gl_pathc) {
            guard let c = g.gl_pathv[i] else { continue }
            let bytes = UnsafeBufferPointer(start: UnsafeRawPointer(c).assumingMemoryBound(to: UInt8.self), count: strlen(c))
            guard let name = FileNameText.decode(bytes) else {
                throw TrainError.input(name: pattern, reason: FileNameText.notUTF8(bytes))
            }
            _ = try appendExisting(name, to: &out)
        }
        return out
    }
}
