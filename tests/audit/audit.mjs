// Runs graphql-http's server audit suite against the URL given and prints the results as JSON lines.
import { auditServer } from "graphql-http";

const url = process.argv[2];
const results = await auditServer({ url });
for (const result of results) {
  const line = { id: result.id, name: result.name, status: result.status };
  if (result.status !== "ok") {
    line.reason = result.reason;
    line.httpStatus = result.response.status;
    line.body = await result.response.text();
  }
  console.log(JSON.stringify(line));
}
