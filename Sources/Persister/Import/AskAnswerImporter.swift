import Foundation
import Logging
import MariaDB
import Model

/// `persister import-askanswers DIR`: the old server's Q&A files (`OldAskAnswerFile`)
/// into MariaDB's `askanswer`, one transaction per file; `persister hydrate` then brings
/// them to Redis like every other row. MariaDB and not the scripts: the import is part of
/// the cutover, done with the bridges stopped, before hydrate; MariaDB is the record that
/// hydrate and verify read, and a row written there needs neither a bridge nor a drained
/// persister to count.
///
/// Idempotent: a pair is known by its owner, type and question. A known pair whose answer
/// is the same is left alone; with another answer its answer is replaced (the row's
/// version raised, so the change outranks the old one); a new pair is inserted with its
/// old id when that id is free (never used, not deleted: `entity_tombstone`), else with
/// the next one. Running it twice changes nothing the second time.
struct AskAnswerImporter: Sendable {
    let session: MariaDBSession
    var dryRun = false
    /// Reasons listed in the report; all are counted.
    var listed = 20
    let logger: Logger

    struct Report: Sendable, CustomStringConvertible {
        var files = 0
        var pairs = 0
        var inserted = 0
        var updated = 0
        var unchanged = 0
        var skipped = 0
        /// Files in the folder that are not `chatuser_{type}_{id}.json`.
        var ignoredFiles = 0
        var reasons: [String] = []
        var dryRun = false

        var description: String {
            var lines = [
                (dryRun ? "dry run, rolled back: " : "")
                    + "Q&A import: \(files) files, \(pairs) pairs: \(inserted) inserted, \(updated) updated, \(unchanged) unchanged, \(skipped) skipped"
                    + (ignoredFiles > 0 ? "; \(ignoredFiles) other files ignored" : ""),
            ]
            lines += reasons.map { "  skipped \($0)" }
            if skipped > reasons.count { lines.append("  … and \(skipped - reasons.count) more") }
            if !dryRun && inserted + updated > 0 { lines.append("next: persister hydrate (brings them to Redis)") }
            return lines.joined(separator: "\n")
        }

        mutating func skip(_ reason: String, listed: Int) {
            skipped += 1
            if reasons.count < listed { reasons.append(reason) }
        }
    }

    func run(directory: String) async throws -> Report {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
        var report = Report(dryRun: dryRun)
        for name in names {
            let path = (directory as NSString).appendingPathComponent(name)
            guard OldAskAnswerFile.parseName(name) != nil else {
                report.ignoredFiles += 1
                continue
            }
            let file: OldAskAnswerFile
            do {
                guard let read = try OldAskAnswerFile(name: name, contents: try Data(contentsOf: URL(fileURLWithPath: path))) else { continue }
                file = read
            } catch {
                report.files += 1
                report.skip("\(name): not JSON (\(error))", listed: listed)
                continue
            }
            report.files += 1
            report.pairs += file.pairs.count + file.rejected.count
            for reason in file.rejected { report.skip(reason, listed: listed) }
            let outcome = try await session.withConnection { connection in
                try connection.beginTransaction()
                do {
                    let outcome = try Self.write(file, on: connection)
                    if dryRun { try connection.rollback() } else { try connection.commit() }
                    return outcome
                } catch {
                    try? connection.rollback()
                    throw error
                }
            }
            report.inserted += outcome.inserted
            report.updated += outcome.updated
            report.unchanged += outcome.unchanged
            for reason in outcome.reasons { report.skip(reason, listed: listed) }
            logger.info("imported", metadata: [
                "file": "\(name)", "inserted": "\(outcome.inserted)", "updated": "\(outcome.updated)", "unchanged": "\(outcome.unchanged)",
            ])
        }
        return report
    }

    private struct FileOutcome {
        var inserted = 0
        var updated = 0
        var unchanged = 0
        var reasons: [String] = []
    }

    private struct Known {
        let id: String
        var answer: String
    }

    private static func write(_ file: OldAskAnswerFile, on connection: MariaDBConnection) throws -> FileOutcome {
        var outcome = FileOutcome()
        let owners = Set(file.pairs.map(\.owner)).sorted()
        guard !owners.isEmpty else { return outcome }
        let ownerList = owners.map(String.init).joined(separator: ",")
        let users = Set(try connection.query("SELECT `id` FROM `user` WHERE `id` IN (\(ownerList))").compactMap { $0[0].flatMap { Int($0) } })
        var known: [String: Known] = [:]
        func key(_ owner: Int, _ type: String, _ ask: String) -> String { "\(owner)\u{0}\(type)\u{0}\(ask)" }
        for row in try connection.query("SELECT `id`, `user_id`, `type`, `ask`, `answer` FROM `askanswer` WHERE `user_id` IN (\(ownerList))") {
            guard let id = row[0], let owner = row[1].flatMap({ Int($0) }) else { continue }
            known[key(owner, row[2] ?? "", row[3] ?? "")] = Known(id: id, answer: row[4] ?? "")
        }
        for (index, pair) in file.pairs.enumerated() {
            let label = "\(file.name) #\(index + 1)"
            guard users.contains(pair.owner) else {
                outcome.reasons.append("\(label): no user \(pair.owner)")
                continue
            }
            guard StoredLimits.AskAnswer.ask.admits(pair.ask), StoredLimits.AskAnswer.type.admits(pair.type),
                  StoredLimits.AskAnswer.answer.admits(pair.answer)
            else {
                outcome.reasons.append("\(label): ask, type or answer longer than the askanswer columns hold (docs/api.md, *Limits*)")
                continue
            }
            let pairKey = key(pair.owner, pair.type, pair.ask)
            if let existing = known[pairKey] {
                if existing.answer == pair.answer {
                    outcome.unchanged += 1
                    continue
                }
                let time = try pair.updateTime.map { try connection.quote($0) } ?? "NOW()"
                _ = try connection.execute("""
                    UPDATE `askanswer` SET `answer` = \(try connection.quote(pair.answer)), `update_time` = \(time), `version` = `version` + 1
                    WHERE `id` = \(existing.id)
                    """)
                known[pairKey]?.answer = pair.answer
                outcome.updated += 1
                continue
            }
            var id = "NULL"
            if let old = pair.id {
                let taken = try connection.query("""
                    SELECT 1 FROM `askanswer` WHERE `id` = \(old)
                    UNION ALL SELECT 1 FROM `entity_tombstone` WHERE `entity` = 'askanswer' AND `id` = \(old)
                    """)
                if taken.isEmpty { id = String(old) }
            }
            let created = try pair.createTime.map { try connection.quote($0) } ?? "NOW()"
            let updated = try (pair.updateTime ?? pair.createTime).map { try connection.quote($0) } ?? created
            _ = try connection.execute("""
                INSERT INTO `askanswer` (`id`, `user_id`, `ask`, `answer`, `type`, `create_time`, `update_time`, `version`)
                VALUES (\(id), \(pair.owner), \(try connection.quote(pair.ask)), \(try connection.quote(pair.answer)), \
                \(try connection.quote(pair.type)), \(created), \(updated), 1)
                """)
            known[pairKey] = Known(id: id == "NULL" ? String(connection.lastInsertID) : id, answer: pair.answer)
            outcome.inserted += 1
        }
        return outcome
    }
}
