/** Every FHIR interaction Stride serves, wired into one Router (no HTTP here). */
import { Router } from './router.js';
import { read } from './read.js';
import { vread } from './vread.js';
import { create } from './create.js';
import { conditionalUpdateHandler, update } from './update.js';
import { conditionalDeleteHandler, deleteHandler } from './delete.js';
import { conditionalPatch, patch } from './patch.js';
import { instanceHistory, systemHistory, typeHistory } from './history.js';
import { compartmentSearch, systemSearch, typeSearch, typeSearchPost } from './search.js';
import { createBundleHandler } from './batch.js';
import { createCapabilitiesHandler } from './capabilities.js';
import { loadDefinitions } from '../validation/definitions.js';
import { instanceOperation, typeOperation } from './operations/registry.js';
import { listBots } from './operations/bots.js';
import { processX12Operation } from './operations/process-x12.js';
import { readOperationDefinition } from './operations/operation-definition.js';
import { supportedSearchParams } from '../search/capability.js';
import { systemExport } from './operations/export.js';
import { cancelExport, exportFile, exportStatus } from './operations/export-status.js';
import { VIEW_DEFINITION_TYPE } from '../analytics/views/stored.js';
import { systemOutcomes } from './operations/outcomes.js';
import { readImplementationGuide } from './operations/guide.js';

export const STRIDE_VERSION = '0.1.0';

export function createRouter(): Router {
  const defs = loadDefinitions();
  const router = new Router((type) => defs.resourceTypeSet.has(type) || type === VIEW_DEFINITION_TYPE);
  router
    .add('GET', 'metadata', createCapabilitiesHandler({ routes: router.list(), version: STRIDE_VERSION, searchParams: supportedSearchParams }))
    .add('POST', '', createBundleHandler(router))
    .add('GET', '', systemSearch)
    .add('GET', '$bots', listBots)
    .add('POST', '$process-x12', processX12Operation)
    .add('GET', '$export', systemExport)
    .add('POST', '$export', systemExport)
    .add('GET', '$export-status/:id', exportStatus)
    .add('DELETE', '$export-status/:id', cancelExport)
    .add('GET', '$export-file/:id/:file', exportFile)
    .add('GET', '$outcomes', systemOutcomes)
    .add('GET', 'OperationDefinition/:id', readOperationDefinition)
    .add('GET', 'ImplementationGuide/:id', readImplementationGuide)
    .add('GET', '_history', systemHistory)
    .add('GET', ':type/_history', typeHistory)
    .add('POST', ':type/_search', typeSearchPost)
    .add('GET', ':type/:id/_history/:vid', vread)
    .add('GET', ':type/:id/_history', instanceHistory)
    .add('GET', ':compartmentType/:id/:type', compartmentSearch)
    .add('GET', 'OperationDefinition/:id', readOperationDefinition)
    .add('GET', ':type/:id', read)
    .add('PUT', ':type/:id', update)
    .add('PATCH', ':type/:id', patch)
    .add('DELETE', ':type/:id', deleteHandler)
    .add('GET', ':type', typeSearch)
    .add('POST', ':type', create)
    .add('PUT', ':type', conditionalUpdateHandler)
    .add('DELETE', ':type', conditionalDeleteHandler)
    .add('PATCH', ':type', conditionalPatch)
    .add('POST', ':type/:op', typeOperation)
    .add('GET', ':type/:op', typeOperation)
    .add('POST', ':type/:id/:op', instanceOperation)
    .add('GET', ':type/:id/:op', instanceOperation);
  return router;
}
