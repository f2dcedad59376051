import SMTPFilters
import Testing

@Suite struct FilterErrorTests {
    @Test func describesAsFileLineMessage() {
        #expect(FilterError(file: "f.yaml", line: 3, column: 7, message: "bad").description == "f.yaml:3: bad")
        #expect(FilterError(file: "f.yaml", message: "no such file or directory").description
            == "f.yaml: no such file or directory")
        #expect(FilterError("unplaced").description == "unplaced")
        #expect(FilterError("m").located(file: "g.yaml", line: 9, column: 2)
            == FilterError(file: "g.yaml", line: 9, column: 2, message: "m"))
    }

    @Test func listDescribesOneProblemPerLine() {
        let list = FilterError.List([
            FilterError(file: "a.yaml", line: 1, message: "one"),
            FilterError(file: "b.yaml", line: 2, message: "two"),
        ])
        #expect(list.description == "a.yaml:1: one\nb.yaml:2: two")
    }
}
