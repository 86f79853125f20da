// customcdReport: report the current build to Allstacks Custom CD with customcd.
//
// Drop this file into the vars/ folder of a Jenkins shared library, then in a Jenkinsfile:
//
//   @Library('your-shared-library') _
//   pipeline {
//     agent any
//     stages { stage('Deploy') { steps { sh './deploy.sh' } } }
//     post { always { customcdReport(serviceId: '42', jobType: 'Production Deploy') } }
//   }
//
// It runs sh/bat, so it needs an agent: with `agent none` at the top, wrap it in
// `node('linux') { customcdReport(...) }` inside post { always { } }.
//
// Parameters (all optional):
//   credentialsId  Jenkins "Secret text" credential holding the Allstacks token (default 'customcd-token')
//   serviceId      Custom CD service id (or set CUSTOMCD_SERVICE_ID / a [[route]] in customcd.toml)
//   jobType        kind of job, e.g. 'Production Deploy'
//   status         native Jenkins result to report (default: currentBuild.currentResult)
//   commitSha      full commit SHA, when GIT_COMMIT is not set (scripted pipelines)
//   optional       list of 'key=value' / 'key:type=value' strings
//   strict         true: fail the step when the record is not delivered (default false)
//   command        how to run customcd (default 'customcd'; e.g. 'uvx --from customcd-jenkins customcd')
//
// It never breaks the build unless strict is true: customcd exits 0 when a record is delivered,
// kept for retry or rejected, and prints one line saying which.
def call(Map args = [:]) {
    String credentialsId = args.get('credentialsId', 'customcd-token')
    String command = args.get('command', 'customcd')
    boolean unix = isUnix()
    // Every value is quoted for the shell that runs it, so a job type such as
    // "Customer's deploy" or a value with spaces, $ or % reaches customcd unchanged.
    List<String> flags = [
        '--status ' + quoteArg(unix, args.get('status', currentBuild.currentResult) as String),
        '--start-time-ms ' + quoteArg(unix, currentBuild.startTimeInMillis as String),
    ]
    if (args.serviceId) { flags << '--service-id ' + quoteArg(unix, args.serviceId as String) }
    if (args.jobType) { flags << '--job-type ' + quoteArg(unix, args.jobType as String) }
    if (args.commitSha) { flags << '--commit-sha ' + quoteArg(unix, args.commitSha as String) }
    for (Object item : (args.get('optional', []) as List)) {
        flags << '--optional ' + quoteArg(unix, item as String)
    }
    if (args.get('strict', false)) { flags << '--strict' }

    String script = "${command} send --adapter jenkins ${flags.join(' ')}"
    // The token is bound to CUSTOMCD_TOKEN in the step's environment and read by customcd from
    // there: it is never interpolated into the script, so it appears neither on a command line
    // nor in the build log (Jenkins masks it anyway).
    withCredentials([string(credentialsId: credentialsId, variable: 'CUSTOMCD_TOKEN')]) {
        if (unix) {
            sh(label: 'customcd send', script: script)
        } else {
            bat(label: 'customcd send', script: script)
        }
    }
}

// Quote one argument: POSIX single quotes ('\'' for a quote inside), or for a Windows batch
// file double quotes (\" for a quote inside, %% for a percent sign, which cmd would expand).
String quoteArg(boolean unix, String value) {
    if (unix) {
        return "'" + value.replace("'", "'\\''") + "'"
    }
    return '"' + value.replace('"', '\\"').replace('%', '%%') + '"'
}
