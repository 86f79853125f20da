// Runs adapters/jenkins/vars/customcdReport.groovy with the pipeline steps stubbed.
// Usage: groovy jenkins_harness.groovy VARS_FILE RESOURCES_DIR CASES_JSON OUT_JSON
// CASES_JSON: a list of {"unix": true, "args": {...} or "argsSource": "k: 'v', ...",
// "currentBuild": {...}, "fail": "credentials"}; argsSource is the Groovy text of a call's
// named arguments (as written in a Jenkinsfile), evaluated as a map.
// OUT_JSON receives, per case, {"calls": [...], "error": null or the exception's text}; a call is
// {"step": "sh"|"bat"|"echo", "script" or "message", "label", "env": what withEnv and
// withCredentials set for it}.
import groovy.json.JsonOutput
import groovy.json.JsonSlurper

def (varsFile, resources, caseFile, outFile) = args
def results = []
def loader = new GroovyClassLoader(this.class.classLoader)
loader.parseClass('''package org.jenkinsci.plugins.workflow.steps
class FlowInterruptedException extends RuntimeException {}''')
for (spec in new JsonSlurper().parse(new File(caseFile))) {
    def calls = []
    def stack = []

    def currentEnv = {
        def env = [:]
        stack.each { List entries -> entries.each { String e -> int i = e.indexOf('='); env[e.substring(0, i)] = e.substring(i + 1) } }
        env
}

def binding = new Binding()
binding.setVariable('currentBuild', spec.currentBuild)
binding.setVariable('isUnix', { -> spec.unix })
binding.setVariable('withEnv', { List entries, Closure body ->
    entries.each { assert it instanceof String : "withEnv entry is not a String: ${it.getClass()}" }
    stack.push(entries)
    try { body() } finally { stack.pop() }
})
binding.setVariable('string', { Map m -> m })
binding.setVariable('withCredentials', { List bindings, Closure body ->
    if (spec.fail == 'credentials') {
        throw new IllegalArgumentException("Could not find credentials entry with ID '${bindings[0].credentialsId}'")
    }
    stack.push(bindings.collect { "${it.variable}=secret-from-${it.credentialsId}".toString() })
    try { body() } finally { stack.pop() }
})
binding.setVariable('libraryResource', { String path -> new File(resources, path).getText('UTF-8') })
binding.setVariable('sh', { Map m -> calls << [step: 'sh', label: m.label, script: m.script, env: currentEnv()]; 0 })
binding.setVariable('bat', { Map m -> calls << [step: 'bat', label: m.label, script: m.script, env: currentEnv()]; 0 })
binding.setVariable('echo', { String message -> calls << [step: 'echo', message: message, env: currentEnv()] })

def script = new GroovyShell(loader, binding).parse(new File(varsFile))
def error = null
try {
    def callArgs = spec.argsSource != null ? new GroovyShell().evaluate("[${spec.argsSource}]") : spec.args
    script.call(callArgs)
} catch (Exception e) {
    error = e.toString()
}
results << [calls: calls, error: error]
}
new File(outFile).setText(JsonOutput.toJson(results), 'UTF-8')
