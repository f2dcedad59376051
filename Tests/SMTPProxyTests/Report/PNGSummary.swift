import Foundation
import Testing

/// A PNG decoded crudely (by Python's zlib: no imaging library) into what a "not blank" check
/// needs: its size, how many distinct colours it has, and the share of its commonest colour.
struct PNGSummary {
    var width: Int
    var height: Int
    var distinctColours: Int
    var dominantShare: Double

    private static let decoder = #"""
import sys, zlib, struct, collections
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
pos, idat, width = 8, b"", 0
while pos < len(data):
    length, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + length]
    if kind == b"IHDR":
        width, height, depth, ctype = struct.unpack(">IIBB", body[:10])
        assert depth == 8 and ctype in (2, 6), "unexpected PNG format"
        bpp = 3 if ctype == 2 else 4
    elif kind == b"IDAT":
        idat += body
    pos += 12 + length
raw = zlib.decompress(idat)
stride = width * bpp
rows, previous, counts = [], bytearray(stride), collections.Counter()
for y in range(height):
    f = raw[y * (stride + 1)]
    line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    for x in range(stride):
        a = line[x - bpp] if x >= bpp else 0
        b = previous[x]
        c = previous[x - bpp] if x >= bpp else 0
        if f == 1: line[x] = (line[x] + a) & 255
        elif f == 2: line[x] = (line[x] + b) & 255
        elif f == 3: line[x] = (line[x] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    if y % 2 == 0:
        for x in range(0, stride, bpp * 2):
            counts[bytes(line[x:x + 3])] += 1
    previous = line
print(width, height, len(counts), max(counts.values()) / sum(counts.values()))
"""#

    init(path: String) throws {
        let result = try ExternalProcess.run("python3", ["-c", Self.decoder, path])
        let fields = result.output.split(separator: " ").map { String($0).trimmingCharacters(in: .whitespacesAndNewlines) }
        guard result.status == 0, fields.count == 4, let width = Int(fields[0]), let height = Int(fields[1]),
            let distinct = Int(fields[2]), let share = Double(fields[3])
        else {
            Issue.record("cannot decode \(path): \(result.error)")
            throw ExternalProcess.MissingTool(program: "python3")
        }
        self.width = width
        self.height = height
        distinctColours = distinct
        dominantShare = share
    }
}
