import Model
import Testing

@Suite("column limits")
struct ColumnLimitTests {
    @Test func columnTypesReadBackAndCompare() {
        #expect(ColumnType(columnType: "varchar(50)") == .varchar(50))
        #expect(ColumnType(columnType: "TEXT") == .text)
        #expect(ColumnType(columnType: "mediumtext") == .mediumText)
        #expect(ColumnType(columnType: "int(10) unsigned") == nil)
        #expect(ColumnType.varchar(9008).holds(.varchar(9008)) && !ColumnType.varchar(4000).holds(.varchar(9008)))
        #expect(ColumnType.mediumText.holds(.text) && !ColumnType.text.holds(.mediumText))
        #expect(!ColumnType.varchar(16_000).holds(.text), "a VARCHAR never stands for a TEXT")
        #expect(ColumnType.text.holds(.varchar(1000)) && !ColumnType.text.holds(.varchar(16_384)))
    }

    @Test func limitsCountTheirUnitAndNameTheField() {
        let characters = ColumnLimit("t", "c", .varchar(3))
        #expect(characters.admits("名名名") && !characters.admits("名名名名"))
        #expect(!characters.admits("🙂🙂"), "UTF-16 units, as clients count")
        #expect(characters.refusal("c") == "参数c长度不能超过3个字符")
        let bytes = ColumnLimit("t", "c", .text, maximum: 6)
        #expect(bytes.admits("名名") && !bytes.admits("名名a"))
        #expect(bytes.refusal("c") == "参数c不能超过6字节")
        #expect(!ColumnLimit("t", "c", .text, maximum: 30_000, unit: .characters).fitsColumn, "3 bytes per unit")
    }

    @Test func everyLimitFitsItsColumnAndTheGroupAvatarHoldsNineAvatars() {
        for limit in StoredLimits.all { #expect(limit.fitsColumn, "\(limit)") }
        let avatars = StoredLimits.Group.avatarMembers
        #expect(StoredLimits.Group.avatar.maximum == avatars * StoredLimits.User.avatar.maximum + avatars - 1)
        #expect(StoredLimits.Message.toAvatar.type.holds(StoredLimits.Group.avatar.type))
        #expect(StoredLimits.columnTypes["message"]?["data"] == .mediumText)
        #expect(StoredLimits.Message.data(ofType: "text") == StoredLimits.Message.textData)
        #expect(StoredLimits.Message.data(ofType: "image") == StoredLimits.Message.otherData)
    }
}
