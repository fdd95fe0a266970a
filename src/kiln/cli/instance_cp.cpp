// kiln instance cp SRC DEST: copies between the host and a running instance; the instance side
// is written ID:/path (kiln instance cp ./app i-0123...:/opt/app).

#include "kiln/cli/verbs.hpp"
#include "kiln/instance/copy.hpp"

namespace kiln::cli {
namespace {

// "i-...:/path" -> {id, path}; anything else is a host path.
std::optional<std::pair<std::string, std::string>> instance_side(const std::string& arg) {
  size_t colon = arg.find(':');
  if (colon == std::string::npos || arg.compare(0, 2, "i-") != 0) {
    return std::nullopt;
  }
  return std::pair(arg.substr(0, colon), arg.substr(colon + 1));
}

}  // namespace

Verb add_instance_cp(CLI::App& group) {
  auto source = std::make_shared<std::string>();
  auto destination = std::make_shared<std::string>();
  CLI::App* cmd = group.add_subcommand("cp", "Copy files in or out of a running instance");
  cmd->add_option("source", *source, "Host path, or ID:/path in the instance")->required();
  cmd->add_option("destination", *destination, "Host path, or ID:/path in the instance")
      ->required();
  return {cmd, [source, destination](Context& context) {
            auto from = instance_side(*source);
            auto to = instance_side(*destination);
            if (from.has_value() == to.has_value()) {
              return report(make_error(ErrorCode::kInvalidArgument,
                                       "exactly one side must be an instance path (ID:/path)"));
            }
            const std::string& id = from ? from->first : to->first;
            Result<instance::InstanceRecord> record = context.instances().get(id);
            if (!record) {
              return report(record.error());
            }
            Status done = to ? instance::copy_into(*record, *source, to->second)
                             : instance::copy_out_of(*record, from->second, *destination);
            return done ? 0 : report(done.error());
          }};
}

}  // namespace kiln::cli
